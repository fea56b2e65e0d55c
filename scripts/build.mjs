// Builds klcore: the wasm builds (SIMD, scalar and the opt-in FMA build) and the debug build from one
// source with asc, src/wasm/abi.ts from the module's exports (the interface's one declaration),
// then the bundles with esbuild (wasm bytes embedded), the type declarations with tsc, then the
// command line (cli/dist/cli.js), a package of its own.
// Each stage runs only when its inputs changed since it last ran (a hash of their contents is kept
// beside its outputs), so a second `npm start` or `npm test` starts at once; --force rebuilds all.
// Usage: node scripts/build.mjs [--wasm-only] [--force]

import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);
const wasmOnly = process.argv.includes("--wasm-only");
const force = process.argv.includes("--force");
const require = createRequire(import.meta.url);

/** Every file under the paths (directories recursively), sorted. */
function files(...paths) {
  const out = [];
  const walk = (p) => {
    if (!existsSync(p)) return;
    if (!statSync(p).isDirectory()) return void out.push(p);
    for (const name of readdirSync(p)) walk(join(p, name));
  };
  paths.forEach(walk);
  return out.sort();
}

/** A hash of the files' paths and contents and of the tool versions. */
function digest(paths, tools) {
  const h = createHash("sha256");
  for (const f of files(...paths)) h.update(f).update("\0").update(readFileSync(f)).update("\0");
  for (const t of tools) h.update(t).update(require(`${t}/package.json`).version);
  return h.digest("hex");
}

/** Runs `build` unless the stamp holds the inputs' hash and every output exists. */
async function stage(stamp, inputs, tools, outputs, build) {
  const want = digest(inputs, tools);
  const have = existsSync(stamp) ? readFileSync(stamp, "utf8") : "";
  if (!force && have === want && outputs.every((f) => existsSync(f))) return false;
  rmSync(stamp, { force: true });
  await build();
  writeFileSync(stamp, want);
  return true;
}

/** One asc run in a child process, so the builds compile in parallel on every core. */
function compile(args) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["node_modules/assemblyscript/bin/asc.js", ...args],
      (error, stdout, stderr) => {
        process.stdout.write(stdout);
        if (error) reject(new Error(`asc ${args.join(" ")} failed:\n${stderr}`));
        else resolve();
      },
    );
  });
}

const wasmBuilt = await stage(
  "build/.inputs",
  ["assembly", "asconfig.json", "scripts/build.mjs"],
  ["assemblyscript"],
  [
    ...["simd", "fma", "scalar", "debug"].map((t) => `build/klcore.${t}.wasm`),
    "build/klcore.scalar.d.ts",
    "build/probe.wasm",
  ],
  async () => {
    mkdirSync("build", { recursive: true });
    // The scalar build also writes asc's declaration of the exports (build/klcore.scalar.d.ts),
    // which src/wasm/abi.ts is generated from; it leaves the wasm unchanged.
    const runs = ["simd", "fma", "scalar", "debug"].map((target) =>
      compile([
        "assembly/index.ts",
        "--config",
        "asconfig.json",
        "--target",
        target,
        ...(target === "scalar" ? ["--bindings", "raw"] : []),
      ]),
    );
    // Test-only probe of the vector math (not shipped).
    if (existsSync("assembly/probe.ts")) {
      runs.push(
        compile([
          "assembly/probe.ts",
          // asc compiles asconfig.json's entries too unless told there is no config.
          "--config",
          "/dev/null",
          "--enable",
          "simd",
          "-O3",
          "--noAssert",
          "--runtime",
          "minimal",
          "--outFile",
          "build/probe.wasm",
        ]),
      );
    }
    await Promise.all(runs);
  },
);

/**
 * src/wasm/abi.ts, the one declaration of the interface between assembly/ and src/: the constants
 * (the module's exported globals, with their values) and every export's signature (asc's own
 * declaration of the module's functions). Written only when its text changes.
 */
async function writeAbi() {
  const bytes = readFileSync("build/klcore.scalar.wasm");
  const module = new WebAssembly.Module(bytes);
  const imports = {};
  for (const i of WebAssembly.Module.imports(module)) (imports[i.module] ??= {})[i.name] = () => {};
  const instance = new WebAssembly.Instance(module, imports);
  const declared = readFileSync("build/klcore.scalar.d.ts", "utf8");
  // Each export's doc comment names its source (assembly/FILE/NAME), its parameters and result.
  const entries = [];
  for (const m of declared.matchAll(/\/\*\*([^]*?)\*\/\s*export (function|const) (\w+)/g)) {
    const [, doc, kind, name] = m;
    if (name === "memory") continue;
    const source = /assembly\/([\w/]+)\/(\w+)/.exec(doc);
    if (!source || source[2] !== name) throw new Error(`abi: no source for export ${name}`);
    const params = [...doc.matchAll(/@param (\w+) `(\w+)`/g)].map(([, p, type]) => ({ name: p, type }));
    const result = /@returns `(\w+)`/.exec(doc)?.[1];
    entries.push({ kind, name, file: `assembly/${source[1]}.ts`, params, result });
  }
  const names = WebAssembly.Module.exports(module)
    .map((e) => e.name)
    .filter((n) => n !== "memory");
  const seen = entries.map((e) => e.name);
  if (names.length !== seen.length || names.some((n) => !seen.includes(n)))
    throw new Error(`abi: the module exports ${names.join(", ")} but asc declares ${seen.join(", ")}`);
  const tsType = (type) => {
    if (/^[iu]64$/.test(type)) throw new Error(`abi: ${type} crosses the interface as a bigint`);
    return "number";
  };
  const byFile = (kind) => {
    const groups = new Map();
    for (const e of entries.filter((x) => x.kind === kind)) {
      if (!groups.has(e.file)) groups.set(e.file, []);
      groups.get(e.file).push(e);
    }
    return [...groups];
  };
  const constants = byFile("const");
  const functions = byFile("function");
  const lines = [
    "// Generated by scripts/build.mjs from the module's exports and asc's declaration of them: do not",
    "// edit (edit assembly/, then build). test/abi.test.ts checks it against both builds.",
    "",
    "// The interface's constants, as assembly/ declares them.",
  ];
  for (const [file, list] of constants) {
    lines.push(`// ${file}`);
    for (const e of list) lines.push(`export const ${e.name} = ${instance.exports[e.name].value};`);
  }
  lines.push(
    "",
    "/** The module's exports: its memory, its functions and its constants (immutable globals). */",
  );
  lines.push("export type KernelExports = {", "readonly memory: WebAssembly.Memory;");
  for (const [file, list] of functions) {
    lines.push(`// ${file}`);
    for (const e of list) {
      const params = e.params.map((p) => `${p.name}: ${tsType(p.type)}`).join(", ");
      lines.push(`${e.name}(${params}): ${e.result ? tsType(e.result) : "void"};`);
    }
  }
  lines.push("// constants");
  for (const [, list] of constants)
    for (const e of list) lines.push(`readonly ${e.name}: WebAssembly.Global;`);
  lines.push(
    "};",
    "",
    'type Arity<F> = F extends (...args: infer A) => unknown ? A["length"] : never;',
    "type FunctionName = { [K in keyof KernelExports]: KernelExports[K] extends (...args: never[]) => unknown ? K : never }[keyof KernelExports];",
    "type ConstantName = { [K in keyof KernelExports]: KernelExports[K] extends WebAssembly.Global ? K : never }[keyof KernelExports];",
    "",
    "/** Each function's number of parameters: the type holds it to KernelExports, the test to the module. */",
    "export const KERNEL_ARITY: { readonly [K in FunctionName]: Arity<KernelExports[K]> } = {",
    ...entries.filter((e) => e.kind === "function").map((e) => `${e.name}: ${e.params.length},`),
    "};",
    "",
    "/** Every constant by name, for the check against the module. */",
    "export const CONSTANTS: { readonly [K in ConstantName]: number } = {",
    ...entries.filter((e) => e.kind === "const").map((e) => `${e.name},`),
    "};",
  );
  const prettier = await import("prettier");
  const target = "src/wasm/abi.ts";
  const options = { ...(await prettier.resolveConfig(target)), filepath: target };
  const text = await prettier.format(lines.join("\n"), options);
  if (!existsSync(target) || readFileSync(target, "utf8") !== text) writeFileSync(target, text);
}
await writeAbi();
if (wasmOnly) process.exit(0);

const esbuild = await import("esbuild");
const jsBuilt = await stage(
  "dist/.inputs",
  [
    "src",
    "build/klcore.simd.wasm",
    "build/klcore.fma.wasm",
    "build/klcore.scalar.wasm",
    "scripts/build.mjs",
    "tsconfig.build.json",
    "package.json",
  ],
  ["esbuild", "typescript"],
  [
    "dist/index.js",
    "dist/index.cjs",
    "dist/klcore.browser.js",
    "dist/klcore.worker.js",
    "dist/worker.js",
    "dist/index.d.ts",
  ],
  async () => {
    rmSync("dist", { recursive: true, force: true });
    mkdirSync("dist", { recursive: true });
    // An explicit target: esbuild's default esnext emits Uint8Array.fromBase64 for embedded binaries,
    // which Node 20 lacks.
    const common = {
      entryPoints: ["src/index.ts"],
      bundle: true,
      loader: { ".wasm": "binary" },
      target: "es2022",
      sourcemap: true,
      logLevel: "warning",
      // fit's workers (src/pool.ts) load Node's worker_threads on demand: never bundled.
      external: ["node:*"],
    };
    await Promise.all([
      esbuild.build({
        ...common,
        format: "esm",
        platform: "neutral",
        outfile: "dist/index.js",
        external: ["node:*", "@assemblyscript/loader"],
      }),
      esbuild.build({
        ...common,
        format: "cjs",
        platform: "node",
        outfile: "dist/index.cjs",
        external: ["node:*", "@assemblyscript/loader"],
        // The worker entry sits beside the bundle: CommonJS has no import.meta, so its URL comes
        // from __filename.
        define: { "import.meta.url": "__klcoreUrl" },
        banner: { js: 'const __klcoreUrl = require("node:url").pathToFileURL(__filename).href;' },
      }),
      // The entry of fit's worker threads (src/worker.ts), loaded by src/pool.ts from beside the
      // bundle that starts it.
      esbuild.build({
        ...common,
        entryPoints: ["src/worker.ts"],
        format: "esm",
        platform: "node",
        outfile: "dist/worker.js",
        external: ["node:*", "@assemblyscript/loader"],
      }),
      // fit's Web Workers in browsers (src/worker.browser.ts), started by the browser bundle from
      // beside it: the loader bundled in, no wasm (the page posts its compiled module).
      esbuild.build({
        ...common,
        entryPoints: ["src/worker.browser.ts"],
        format: "esm",
        platform: "browser",
        outfile: "dist/klcore.worker.js",
        mainFields: ["module", "main"],
      }),
      // One self-contained ESM file for browsers: the loader is bundled in.
      esbuild.build({
        ...common,
        format: "esm",
        platform: "browser",
        outfile: "dist/klcore.browser.js",
        mainFields: ["module", "main"],
      }),
    ]);
    for (const build of ["simd", "scalar", "fma"])
      copyFileSync(`build/klcore.${build}.wasm`, `dist/klcore.${build}.wasm`);
    execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
      stdio: "inherit",
    });
  },
);
// The command line, a package of its own (cli/): the library comes in by its name (its exports map
// resolves it to dist/index.js at run time), so it is not bundled twice, and the command line's
// dependencies stay out of every library bundle. It ships the digits the loss comparison trains on.
const cliBuilt = await stage(
  "cli/dist/.inputs",
  ["cli/src", "cli/package.json", "data/digits.csv", "data/README.md", "scripts/build.mjs"],
  ["esbuild"],
  ["cli/dist/cli.js", "cli/data/digits.csv"],
  async () => {
    rmSync("cli/dist", { recursive: true, force: true });
    await esbuild.build({
      entryPoints: ["cli/src/main.ts"],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      outfile: "cli/dist/cli.js",
      banner: { js: "#!/usr/bin/env node" },
      external: ["klcore", "csv-parse", "csv-parse/*", "vega", "vega-lite"],
      logLevel: "warning",
    });
    chmodSync("cli/dist/cli.js", 0o755);
    mkdirSync("cli/data", { recursive: true });
    for (const f of ["digits.csv", "README.md"]) copyFileSync(`data/${f}`, `cli/data/${f}`);
  },
);
console.log(
  wasmBuilt || jsBuilt || cliBuilt
    ? "built: build/*.wasm, dist/ (index.js, index.cjs, klcore.browser.js, *.d.ts), cli/dist/cli.js"
    : "up to date: build/*.wasm, dist/ and cli/dist/ (node scripts/build.mjs --force rebuilds)",
);
