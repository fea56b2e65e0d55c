// Builds klcore: both wasm builds (SIMD and scalar) and the debug build from one source with asc,
// then the bundles with esbuild (wasm bytes embedded), the command line (dist/cli.js), then the type
// declarations with tsc.
// Usage: node scripts/build.mjs [--wasm-only]

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import asc from "assemblyscript/asc";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);
const wasmOnly = process.argv.includes("--wasm-only");

async function compile(args) {
  const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    console.error(stderr.toString());
    throw new Error(`asc ${args.join(" ")} failed: ${error.message}`);
  }
}

mkdirSync("build", { recursive: true });
for (const target of ["simd", "scalar", "debug"]) {
  await compile(["assembly/index.ts", "--config", "asconfig.json", "--target", target]);
}
// Test-only probe of the vector math (not shipped).
if (existsSync("assembly/probe.ts")) {
  await compile([
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
  ]);
}
if (wasmOnly) process.exit(0);

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
};
await Promise.all([
  esbuild.build({
    ...common,
    format: "esm",
    platform: "neutral",
    outfile: "dist/index.js",
    external: ["@assemblyscript/loader"],
  }),
  esbuild.build({
    ...common,
    format: "cjs",
    platform: "node",
    outfile: "dist/index.cjs",
    external: ["@assemblyscript/loader"],
  }),
  // One self-contained ESM file for browsers: the loader is bundled in.
  esbuild.build({
    ...common,
    format: "esm",
    platform: "browser",
    outfile: "dist/klcore.browser.js",
    mainFields: ["module", "main"],
  }),
  // The command line: the library comes in by the package's own name (its exports map resolves it
  // to dist/index.js at run time), so it is not bundled twice; its dependencies stay out of every
  // library bundle.
  esbuild.build({
    entryPoints: ["src/cli/main.ts"],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile: "dist/cli.js",
    banner: { js: "#!/usr/bin/env node" },
    external: ["klcore", "csv-parse", "csv-parse/*", "vega", "vega-lite"],
    logLevel: "warning",
  }),
]);
chmodSync("dist/cli.js", 0o755);
for (const build of ["simd", "scalar"])
  copyFileSync(`build/klcore.${build}.wasm`, `dist/klcore.${build}.wasm`);
execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
  stdio: "inherit",
});
console.log(
  "built: build/*.wasm, dist/index.js, dist/index.cjs, dist/klcore.browser.js, dist/cli.js, dist/*.d.ts",
);
