// Every code block of README.md and of the docs pages runs as written and prints what it says.
// A ```js or ```ts block runs in its own Node process from a folder inside the repository, so that
// `import ... from "klcore"` resolves through the package's own name to the built dist/; each
// `// => value` comment is one line of its output, in order (numbers to the digits written; text
// after a further ` // ` is commentary). A ```sh block runs in bash from the repository root, each
// `# => text` a part of its output. A block after `<!-- not-run -->` is not run, and a ```text
// block is an output listing: both are counted per page, so none is skipped by accident. Relative
// links and their #anchors must resolve, and the benchmark figures must be the ones
// scripts/readme-perf.mjs makes of bench/results/.
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { transformSync } from "esbuild";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const scratch = join(root, "build", "readme-snippets");

/** The pages, and how many of their blocks run, are not run, and are output listings. */
const PAGES: Record<string, { js: number; sh: number; notRun: number; text: number }> = {
  "README.md": { js: 6, sh: 1, notRun: 1, text: 0 },
  "docs/api.md": { js: 8, sh: 0, notRun: 0, text: 0 },
  "docs/cli.md": { js: 0, sh: 1, notRun: 1, text: 3 },
  "docs/browsers.md": { js: 0, sh: 0, notRun: 0, text: 0 },
  "docs/performance.md": { js: 0, sh: 0, notRun: 0, text: 0 },
  "docs/accuracy.md": { js: 0, sh: 0, notRun: 0, text: 0 },
  "docs/why-kl.md": { js: 0, sh: 0, notRun: 0, text: 0 },
  "docs/development.md": { js: 0, sh: 0, notRun: 1, text: 0 },
};

interface Block {
  page: string;
  line: number; // of the opening fence, 1-based
  lang: string;
  code: string;
  notRun: boolean;
}

function blocksOf(page: string): Block[] {
  const lines = readFileSync(join(root, page), "utf8").split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${page}:${i + 1}: a code block that never closes`);
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    blocks.push({
      page,
      line: i + 1,
      lang: open[1]!,
      code: lines.slice(i + 1, end).join("\n") + "\n",
      notRun: before >= 0 && lines[before]!.trim() === "<!-- not-run -->",
    });
    i = end;
  }
  return blocks;
}

/** What a `// =>` (js) or `# =>` (sh) comment says, without its commentary. */
function expectations(code: string, marker: RegExp): string[] {
  const out: string[] = [];
  for (const line of code.split("\n")) {
    const m = marker.exec(line);
    if (m) out.push(m[1]!.split(" // ")[0]!.trim());
  }
  return out;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const tokens = (s: string): string[] => s.split(/[\s,[\]]+/).filter(Boolean);

/** One printed line against its `// =>`: numbers to the digits written (integers exactly), else exact. */
function matches(printed: string, expected: string): boolean {
  const a = tokens(printed);
  const e = tokens(expected);
  if (a.length !== e.length) return false;
  return e.every((want, i) => {
    const got = a[i]!;
    if (!NUMBER.test(want) || !NUMBER.test(got)) return got === want;
    const [mantissa, exponent] = want.toLowerCase().split("e");
    const decimals = mantissa!.includes(".") ? mantissa!.split(".")[1]!.length : 0;
    if (decimals === 0 && exponent === undefined) return Number(got) === Number(want);
    const tol = Math.max(
      0.5 * 10 ** (Number(exponent ?? 0) - decimals),
      4 * Number.EPSILON * Math.abs(+want),
    );
    return Math.abs(Number(got) - Number(want)) <= tol;
  });
}

const all = Object.keys(PAGES).flatMap(blocksOf);

describe("the README and docs pages", () => {
  it("every block names its language; the counts of each kind are the ones expected", () => {
    for (const [page, want] of Object.entries(PAGES)) {
      const b = all.filter((x) => x.page === page);
      for (const x of b) expect(["js", "ts", "sh", "text"], `${page}:${x.line}`).toContain(x.lang);
      const running = b.filter((x) => !x.notRun);
      expect(
        {
          js: running.filter((x) => x.lang === "js" || x.lang === "ts").length,
          sh: running.filter((x) => x.lang === "sh").length,
          notRun: b.filter((x) => x.notRun).length,
          text: running.filter((x) => x.lang === "text").length,
        },
        page,
      ).toEqual(want);
    }
  });

  it("the README opens with what klcore is, the two commands, then one example", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const [title, description, ...rest] = readme.split(/\n\n+/);
    expect(title).toBe("# klcore");
    expect(description).toMatch(/^klcore computes KL divergence/);
    expect(rest[0]).toBe("<!-- not-run -->");
    const first = all.filter((x) => x.page === "README.md");
    expect(first[0]!.lang).toBe("sh");
    expect(first[0]!.code.split("\n").map((l) => l.split("#")[0]!.trim())).toEqual([
      "npm install && npm start",
      "npm install && npm test",
      "",
    ]);
    expect(first[1]!.lang).toBe("js");
    // The example comes before the tour and the reference.
    expect(readme.indexOf(first[1]!.code)).toBeLessThan(readme.indexOf("## "));
  });

  it("the benchmark figures of docs/performance.md and the README's headline follow bench/results/", async () => {
    const { stdout } = await run(process.execPath, [join(root, "scripts", "readme-perf.mjs"), "--check"], {
      cwd: root,
    });
    expect(stdout).toMatch(/the figures follow bench\/results\//);
    const readme = readFileSync(join(root, "README.md"), "utf8");
    expect(readme).toMatch(
      /<!-- perf-headline:start -->[\s\S]*\| `kl` f32, n = 1e6 [\s\S]*<!-- perf-headline:end -->/,
    );
  });

  it("every relative link points at a file, and every #anchor at a heading", () => {
    const slug = (h: string): string =>
      h
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s-]/gu, "")
        .trim()
        .replace(/\s/g, "-");
    const anchorsOf = (file: string): string[] =>
      [...readFileSync(file, "utf8").matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!));
    for (const page of Object.keys(PAGES)) {
      const text = readFileSync(join(root, page), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // https: and the like
        const [path, anchor] = target!.split("#");
        const file = path ? resolve(dirname(join(root, page)), path) : join(root, page);
        expect(existsSync(file), `${page}: ${target}`).toBe(true);
        if (anchor) expect(anchorsOf(file), `${page}: ${target}`).toContain(anchor);
      }
    }
  });
});

describe.concurrent("every snippet runs as written", () => {
  mkdirSync(scratch, { recursive: true });
  for (const b of all.filter((x) => !x.notRun && x.lang !== "text")) {
    const name = `${b.page}:${b.line} (${b.lang})`;
    if (b.lang === "sh") {
      it(name, async () => {
        const wanted = expectations(b.code, /#\s*=>\s*(.*)$/);
        expect(wanted.length, "a # => to check").toBeGreaterThan(0);
        // `npx klcore` runs node_modules/.bin/klcore, this checkout's command line; called directly,
        // without npm's start-up, which on a busy machine takes longer than the command itself.
        const shim = 'npx() { if [ "$1" = klcore ]; then shift; klcore "$@"; else command npx "$@"; fi; }\n';
        const { stdout } = await run("bash", ["-eo", "pipefail", "-c", shim + b.code], {
          cwd: root,
          env: { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` },
        });
        const flat = stdout.replace(/\s+/g, " ");
        for (const w of wanted) expect(flat, w).toContain(w.replace(/\s+/g, " "));
      });
      continue;
    }
    it(name, async () => {
      const file = join(scratch, `${b.page.replace(/\W/g, "-")}-${b.line}.mjs`);
      const code = b.lang === "ts" ? transformSync(b.code, { loader: "ts", format: "esm" }).code : b.code;
      writeFileSync(file, code);
      const { stdout } = await run(process.execPath, [file], { cwd: scratch });
      const printed = stdout.trimEnd().split("\n");
      const wanted = expectations(b.code, /\/\/\s*=>\s*(.*)$/);
      expect(wanted.length, "a // => to check").toBeGreaterThan(0);
      expect(printed.length, stdout).toBe(wanted.length);
      wanted.forEach((w, i) =>
        expect(matches(printed[i]!, w), `line ${i + 1}: ${printed[i]} vs ${w}`).toBe(true),
      );
    });
  }
});

describe("the comparison of a printed line with its // =>", () => {
  it("numbers to the digits written, integers exactly, text exactly", () => {
    expect(matches("0.11678337577100639", "0.116783375771006")).toBe(true);
    expect(matches("0.1168", "0.116783375771006")).toBe(false);
    expect(matches("[ 0.5, 0, Infinity ]", "[0.5, 0, Infinity]")).toBe(true);
    expect(matches("6.4", "6")).toBe(false);
    expect(matches("1.24e-7", "1.2e-7")).toBe(true);
    expect(matches("1.3e-7", "1.2e-7")).toBe(false);
    expect(matches("simd 0.5", "scalar 0.5")).toBe(false);
    expect(matches("0.5 extra", "0.5")).toBe(false);
  });
});
