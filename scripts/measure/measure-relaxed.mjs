// Is the FMA build worth it? Takes the SIMD build and the opt-in FMA build (asconfig.json's "fma"
// target), which differ only in the multiply-add: `f32x4.add(f32x4.mul(a, b), acc)` (the default)
// and `f32x4.relaxed_madd(a, b, acc)` (FMA where the CPU has it), then times the
// dense layer of an MLP 784-128-10's first layer (batch 128) forward and backward in both, round
// robin, in a child Node started with --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD
// behind that flag; Chromium ships it). Prints the medians, the gain, and how far the outputs
// drift apart (FMA rounds once where add(mul) rounds twice, so the bits differ). The timing itself is
// bench/relaxed.mjs, which `npm run bench:browser` runs in Chromium too, on the builds of
// buildVariants() below.
// Usage: node scripts/measure/measure-relaxed.mjs
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { compareDense, relaxedLines } from "../../bench/relaxed.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === "--child") {
    await child(process.argv[3], process.argv[4]);
  } else {
    await parent();
  }
}

/**
 * The two builds compared: the shipped SIMD build (add(mul)) and the opt-in FMA build (relaxed_madd
 * in the dense kernels and the float32 log and exp), both from `npm run build`; returns their bytes.
 */
export async function buildVariants() {
  return {
    shipped: new Uint8Array(readFileSync(join(root, "build/klcore.simd.wasm"))),
    relaxed: new Uint8Array(readFileSync(join(root, "build/klcore.fma.wasm"))),
  };
}

async function parent() {
  const builds = await buildVariants();
  const dir = mkdtempSync(join(tmpdir(), "klcore-relaxed-"));
  try {
    const files = {};
    for (const variant of ["shipped", "relaxed"]) {
      files[variant] = join(dir, `${variant}.wasm`);
      writeFileSync(files[variant], builds[variant]);
    }
    execFileSync(
      process.execPath,
      [
        "--experimental-wasm-relaxed-simd",
        fileURLToPath(import.meta.url),
        "--child",
        files.shipped,
        files.relaxed,
      ],
      { stdio: "inherit" },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(shipped, relaxed) {
  const r = await compareDense(readFileSync(shipped), readFileSync(relaxed));
  for (const line of relaxedLines(r)) console.log(line);
}
