// Is a relaxed-SIMD build worth it? Builds two variants of assembly/ in a temporary directory, the
// same way except for the dense kernels' multiply-add: `f32x4.add(acc, f32x4.mul(a, b))` (what
// klcore ships) and `f32x4.relaxed_madd(a, b, acc)` (FMA where the CPU has it), then times the
// dense layer of an MLP 784-128-10's first layer (batch 128) forward and backward in both, round
// robin, in a child Node started with --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD
// behind that flag; Chromium ships it). Prints the medians, the gain, and how far the outputs
// drift apart (FMA rounds once where add(mul) rounds twice, so the bits differ). The timing itself is
// bench/relaxed.mjs, which `npm run bench:browser` runs in Chromium too, on the builds of
// buildVariants() below.
// Usage: node scripts/measure/measure-relaxed.mjs
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
 * Builds the two variants of assembly/ (the shipped add(mul) and relaxed_madd) in a temporary
 * directory; returns their bytes.
 */
export async function buildVariants() {
  const { default: asc } = await import("assemblyscript/asc");
  const dir = mkdtempSync(join(tmpdir(), "klcore-relaxed-"));
  try {
    const builds = {};
    for (const variant of ["shipped", "relaxed"]) {
      const src = join(dir, variant);
      cpSync(join(root, "assembly"), join(src, "assembly"), { recursive: true });
      const enable = ["--enable", "simd"];
      if (variant === "relaxed") {
        const file = join(src, "assembly", "linear.ts");
        const text = readFileSync(file, "utf8");
        const from = "return f32x4.add(acc, f32x4.mul(a, b));";
        if (!text.includes(from)) throw new Error("assembly/linear.ts: madd() is not the expected add(mul)");
        writeFileSync(file, text.replace(from, "return f32x4.relaxed_madd(a, b, acc);"));
        enable.push("--enable", "relaxed-simd");
      }
      const out = join(dir, `${variant}.wasm`);
      const args = [join(src, "assembly", "index.ts"), "--outFile", out, "--config", "/dev/null"];
      args.push("--runtime", "minimal", "--optimizeLevel", "3", "--noAssert", ...enable);
      const { error } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
      if (error) throw error;
      builds[variant] = new Uint8Array(readFileSync(out));
    }
    return builds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
