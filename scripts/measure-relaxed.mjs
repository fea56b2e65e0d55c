// Is a relaxed-SIMD build worth it? Builds two variants of assembly/ in a temporary directory, the
// same way except for the dense kernels' multiply-add: `f32x4.add(acc, f32x4.mul(a, b))` (what
// klcore ships) and `f32x4.relaxed_madd(a, b, acc)` (FMA where the CPU has it), then times the
// dense layer of an MLP 784-128-10's first layer (batch 128) forward and backward in both, round
// robin, in a child Node started with --experimental-wasm-relaxed-simd (Node 20 has relaxed SIMD
// behind that flag; Chromium ships it). Prints the medians, the gain, and how far the outputs
// drift apart (FMA rounds once where add(mul) rounds twice, so the bits differ).
// Usage: node scripts/measure-relaxed.mjs
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

if (process.argv[2] === "--child") {
  await child(process.argv[3], process.argv[4]);
} else {
  await parent();
}

async function parent() {
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
      builds[variant] = out;
    }
    execFileSync(
      process.execPath,
      [
        "--experimental-wasm-relaxed-simd",
        fileURLToPath(import.meta.url),
        "--child",
        builds.shipped,
        builds.relaxed,
      ],
      { stdio: "inherit" },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(shipped, relaxed) {
  const rows = 128;
  const inputs = 784;
  const outputs = 128;
  const load = async (file) =>
    (await WebAssembly.instantiate(readFileSync(file), { env: { abort: () => {} } })).instance.exports;
  // The same seeded inputs in both modules.
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const data = {
    x: Float32Array.from({ length: rows * inputs }, random),
    w: Float32Array.from({ length: inputs * outputs }, random),
    b: Float32Array.from({ length: outputs }, random),
    dy: Float32Array.from({ length: rows * outputs }, random),
  };
  const setUp = async (file) => {
    const k = await load(file);
    const at = {};
    for (const [name, n] of Object.entries({
      x: rows * inputs,
      w: inputs * outputs,
      b: outputs,
      dy: rows * outputs,
    })) {
      at[name] = k.alloc(n * 4);
    }
    for (const [name, n] of Object.entries({
      y: rows * outputs,
      dx: rows * inputs,
      dw: inputs * outputs,
      db: outputs,
    })) {
      at[name] = k.alloc(n * 4);
    }
    const f32 = new Float32Array(k.memory.buffer);
    for (const name of ["x", "w", "b", "dy"]) f32.set(data[name], at[name] >> 2);
    const forward = () => k.dense_forward_f32(at.x, at.w, at.b, at.y, rows, inputs, outputs);
    const backward = () =>
      k.dense_backward_f32(at.x, at.w, at.dy, at.dx, at.dw, at.db, rows, inputs, outputs);
    const read = (name, n) => new Float32Array(k.memory.buffer, at[name], n).slice();
    return { forward, backward, read };
  };
  const m = { shipped: await setUp(shipped), relaxed: await setUp(relaxed) };
  const times = { forward: { shipped: [], relaxed: [] }, backward: { shipped: [], relaxed: [] } };
  for (let round = 0; round < 15; round++) {
    for (const op of ["forward", "backward"]) {
      for (const v of round % 2 ? ["relaxed", "shipped"] : ["shipped", "relaxed"]) {
        const t0 = performance.now();
        for (let i = 0; i < 20; i++) m[v][op]();
        times[op][v].push((performance.now() - t0) / 20);
      }
    }
  }
  const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
  const drift = (name, n) => {
    const a = m.shipped.read(name, n);
    const b = m.relaxed.read(name, n);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    return worst / scale;
  };
  console.log(`dense layer ${rows}x${inputs} -> ${outputs}, medians of 15 rounds of 20 calls:`);
  for (const op of ["forward", "backward"]) {
    const s = median(times[op].shipped);
    const r = median(times[op].relaxed);
    console.log(
      `  ${op.padEnd(8)} add(mul) ${s.toFixed(3)} ms, relaxed_madd ${r.toFixed(3)} ms: ${(s / r).toFixed(2)}x`,
    );
  }
  console.log(
    `  outputs differ by up to ${drift("y", rows * outputs).toExponential(1)} (y), ` +
      `${drift("dw", inputs * outputs).toExponential(1)} (dW) of their largest value`,
  );
}
