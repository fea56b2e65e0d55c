// The package as users receive it: the exports map, the CommonJS bundle, the raw .wasm files, an
// engine without SIMD, and the debug build's readable abort messages through @assemblyscript/loader.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { instantiate } from "@assemblyscript/loader";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as {
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
  sideEffects: boolean;
  engines: { node: string };
};

/** Runs a snippet in a fresh Node process from the project root; returns its stdout. */
const node = (args: string[]): string =>
  execFileSync(process.execPath, args, { cwd: root, encoding: "utf8" });

describe("package", () => {
  it("every path in the exports map exists; types, browser, import and require conditions", () => {
    const main = pkg.exports["."] as Record<string, string>;
    expect(Object.keys(main)).toEqual(["types", "browser", "import", "require"]);
    const paths = Object.values(pkg.exports).flatMap((v) => (typeof v === "string" ? [v] : Object.values(v)));
    for (const p of paths) expect(existsSync(`${root}${p}`), p).toBe(true);
    // The library needs only the loader; the command line is a package of its own (cli/).
    expect(Object.keys(pkg.dependencies)).toEqual(["@assemblyscript/loader"]);
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.engines.node).toBe(">=20");
  });

  it("the browser bundle starts only its own worker module the way bundlers follow", () => {
    // Vite and webpack bundle what `new Worker(new URL("./x.js", import.meta.url))` names: the
    // browser's klcore.worker.js may be named so, Node's worker.js (which Vite fails to bundle,
    // for its top-level await) must not be.
    const bundle = readFileSync(`${root}dist/klcore.browser.js`, "utf8");
    const started = [
      ...bundle.matchAll(/new\s+[\w$]+\(\s*new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url/g),
    ];
    expect(started.map((m) => m[1])).toEqual(["./klcore.worker.js"]);
    expect(existsSync(`${root}dist/klcore.worker.js`)).toBe(true);
    expect(readFileSync(`${root}dist/klcore.worker.js`, "utf8")).not.toMatch(/\bawait import\(|import\.meta/);
  });

  it("a consumer that installs the packed library gets klcore and the loader, nothing else", () => {
    const dir = mkdtempSync(join(tmpdir(), "klcore-consumer-"));
    try {
      const npm = (args: string[], cwd: string): string =>
        execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
          cwd,
          encoding: "utf8",
        });
      const tarball = join(dir, npm(["pack", "--pack-destination", dir], root).trim().split("\n").at(-1)!);
      writeFileSync(
        join(dir, "package.json"),
        JSON.stringify({ name: "consumer", version: "1.0.0", type: "module" }),
      );
      npm(["install", "--prefer-offline", tarball], dir);
      const installed = npm(["ls", "--omit=dev", "--all", "--parseable"], dir)
        .trim()
        .split("\n")
        .slice(1) // the consumer itself
        .map((p) => relative(join(dir, "node_modules"), p))
        .sort();
      expect(installed).toEqual(["@assemblyscript/loader", "klcore"]);
      const out = execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          "const k = await import('klcore'); console.log(k.kl([0.5, 0.5], [0.25, 0.75]))",
        ],
        { cwd: dir, encoding: "utf8" },
      );
      expect(Number(out)).toBe(0.14384103622589042);
      // What the tarball holds: the bundles, declarations and wasm, the README and licence.
      const files = npm(["pack", "--dry-run", "--json"], root);
      const names = (JSON.parse(files) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
      expect(
        names.every((f) => /^(dist\/|README\.md$|LICENSE$|package\.json$)/.test(f)),
        names.join(" "),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("require('klcore') works from CommonJS and gives the ESM build's numbers", () => {
    const out = node([
      "-e",
      "const k = require('klcore'); console.log(JSON.stringify([k.kl([0.5,0.5],[0.25,0.75]), k.backend().simd]))",
    ]);
    expect(JSON.parse(out)).toEqual([0.14384103622589042, true]);
  });

  it("import('klcore') resolves to the ESM build through the exports map", () => {
    const out = node([
      "--input-type=module",
      "-e",
      "const k = await import('klcore'); console.log(k.entropy([0.5, 0.5], { base: 2 }))",
    ]);
    expect(out.trim()).toBe("1");
  });

  it("without WebAssembly SIMD the scalar build is chosen, and { simd: true } is refused clearly", () => {
    const script = [
      "WebAssembly.validate = () => false;", // an engine that cannot run the SIMD build
      "const k = await import('klcore');",
      "const r = [k.hasSimd(), k.backend().build, k.kl([0.5, 0.5], [0.25, 0.75])];",
      "try { await k.init({ simd: true }); } catch (e) { r.push(e.message); }",
      "console.log(JSON.stringify(r));",
    ].join("\n");
    const [has, build, value, message] = JSON.parse(node(["--input-type=module", "-e", script])) as unknown[];
    expect(has).toBe(false);
    expect(build).toBe("scalar");
    expect(value).toBeCloseTo(0.14384103622589045, 15);
    expect(message).toMatch(/cannot run WebAssembly SIMD/);
  });

  it("the debug build, instantiated through @assemblyscript/loader, aborts with a readable message", async () => {
    const bytes = readFileSync(`${root}build/klcore.debug.wasm`);
    const { exports } = await instantiate<{ alloc(size: number): number }>(bytes, {});
    // TLSF refuses a block over 1 GiB with an assertion the debug build keeps.
    expect(() => exports.alloc(2 ** 31)).toThrow(/abort: .*(Allocation too large|allocation).*tlsf\.ts/i);
  });

  it("the README's examples give the values the README shows", () => {
    const out = node([
      "--input-type=module",
      "-e",
      [
        "const k = await import('klcore');",
        "const p = new Float64Array([0.1, 0.4, 0.5]);",
        "const q = new Float64Array([0.3, 0.3, 0.4]);",
        "const logits = new Float32Array([1, 2, 3, 0.5, 0.1, -1]);",
        "const r = k.crossEntropyWithLogits([2, 0], logits, { classes: 3, grad: true });",
        "console.log(JSON.stringify([k.kl(p, q), k.kl(p, q, { base: 2 }), k.crossEntropy(p, q) - k.entropy(p),",
        "  k.jsDistance([1, 0], [0, 1]), String(k.kl([0.5, 0.5], [1, 0])), r.grad.length, k.logSumExp(logits, { classes: 3 }).length]));",
      ].join("\n"),
    ]);
    const [kl, bits, diff, js, inf, gradLength, lseLength] = JSON.parse(out) as [
      number,
      number,
      number,
      number,
      string,
      number,
      number,
    ];
    expect(kl).toBe(0.11678337577100631);
    expect(bits).toBe(0.16848279708310313);
    expect(diff).toBeCloseTo(kl, 15);
    expect(js).toBe(0.8325546111576977);
    expect(inf).toBe("Infinity");
    expect(gradLength).toBe(6);
    expect(lseLength).toBe(2);
  });

  it("the raw .wasm files are valid modules exporting the kernels, each well under 1 MB", () => {
    // The FMA build compiles here because vitest.config.ts enables relaxed SIMD on Node 20.
    for (const build of ["simd", "scalar", "fma"]) {
      const bytes = readFileSync(`${root}dist/klcore.${build}.wasm`);
      expect(bytes.length).toBeLessThan(2 ** 20);
      const module = new WebAssembly.Module(bytes);
      const names = WebAssembly.Module.exports(module).map((e) => e.name);
      expect(names).toEqual(
        expect.arrayContaining(["memory", "alloc", "dealloc", "divergence_f32", "rel_entr_f64"]),
      );
    }
  });
});
