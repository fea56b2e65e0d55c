// The pieces fit({ workers }) cuts a step into (src/shards.ts, src/shardrunner.ts, docs/workers.md):
// quads tile a batch on the loss kernels' grid of four rows from each chunk's start; claims hand out
// every piece once, in runs that shrink; the units tile each layer's dW and the biases; and the two
// halves of dense_backward_f32 (dx of some rows, dW by blocks of rows) give its bits in every build,
// wherever the blocks start.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { claim, quadCount, quadStart } from "../src/shards.js";
import { piecesOf, unitsOf } from "../src/shardrunner.js";
import { rng } from "./helpers/fixtures.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("quads", () => {
  it("tile every batch, each starting on its chunk's grid of four rows, at most four rows long", () => {
    for (const chunk of [1, 3, 4, 5, 7, 8, 21845, 65536]) {
      for (const m of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 128, 130, 512, 1000]) {
        const n = quadCount(m, chunk);
        expect(quadStart(0, m, chunk)).toBe(0);
        expect(quadStart(n, m, chunk)).toBe(m);
        for (let q = 0; q < n; q++) {
          const a = quadStart(q, m, chunk);
          const b = quadStart(q + 1, m, chunk);
          expect(b - a, `m ${m}, chunk ${chunk}, quad ${q}`).toBeGreaterThan(0);
          expect(b - a).toBeLessThanOrEqual(4);
          // A quad never crosses a chunk's start, and starts four rows on from one.
          expect((a % chunk) % 4).toBe(0);
          expect(Math.floor(a / chunk)).toBe(Math.floor((b - 1) / chunk));
        }
      }
    }
  });
});

describe("claim", () => {
  it("hands out every piece exactly once, in runs that shrink to one", () => {
    for (const [total, threads] of [
      [1, 2],
      [32, 2],
      [128, 2],
      [25, 3],
      [100, 8],
    ] as const) {
      const control = new Int32Array(1);
      const runs: [number, number][] = [];
      for (let c; (c = claim(control, 0, total, threads));) runs.push(c);
      expect(runs[0]![0]).toBe(0);
      for (let i = 1; i < runs.length; i++) expect(runs[i]![0]).toBe(runs[i - 1]![1]);
      expect(runs.at(-1)![1]).toBe(total);
      const sizes = runs.map(([a, b]) => b - a);
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeLessThanOrEqual(sizes[i - 1]!);
      expect(sizes.at(-1)).toBe(1);
      expect(claim(control, 0, total, threads)).toBeNull();
    }
  });
});

describe("units", () => {
  it("tile each layer's dW in blocks of whole tiles, then the biases, each place once", () => {
    const layers = [
      { inputs: 784, outputs: 128, bias: true },
      { inputs: 128, outputs: 10, bias: true },
      { inputs: 3, outputs: 5, bias: false },
    ];
    const units = unitsOf(layers);
    const arrays = [784 * 128, 128, 128 * 10, 10, 15];
    const seen = arrays.map((n) => new Uint8Array(n));
    for (const u of units) {
      if (u.layer >= 0) expect(u.lo % 4).toBe(0);
      for (const p of piecesOf(layers, u)) for (let i = p.from; i < p.to; i++) seen[p.array]![i]!++;
    }
    for (const s of seen) expect(s.every((c) => c === 1)).toBe(true);
    expect(units.filter((u) => u.layer === 0)).toHaveLength(25);
    expect(units.at(-1)).toEqual({ layer: -1, lo: 0, hi: 0 });
  });
});

describe.each(["simd", "scalar", "fma"])("the %s build's dense_backward halves", (build) => {
  const module = new WebAssembly.Module(readFileSync(`${root}dist/klcore.${build}.wasm`));
  const imports: Record<string, Record<string, () => void>> = {};
  for (const i of WebAssembly.Module.imports(module)) (imports[i.module] ??= {})[i.name] = () => {};
  const k = new WebAssembly.Instance(module, imports).exports as Record<
    string,
    (...a: number[]) => number
  > & {
    memory: WebAssembly.Memory;
  };
  k.memory.grow(64);
  const f = (): Float32Array => new Float32Array(k.memory.buffer);
  const bits = (at: number, n: number): number[] => Array.from(new Uint32Array(k.memory.buffer, at, n));

  it("give dense_backward_f32's dx and dW bits, split by rows and by blocks of dW rows", () => {
    const r = rng(3);
    for (const [rows, inputs, outputs] of [
      [16, 784, 128],
      [13, 37, 10],
      [5, 9, 3],
      [1, 4, 8],
    ] as const) {
      let at = 1 << 20;
      const take = (n: number): number => {
        const p = at;
        at += 4 * n + 64;
        return p;
      };
      const x = take(rows * inputs),
        w = take(inputs * outputs),
        dy = take(rows * outputs);
      const dx = take(rows * inputs),
        dw = take(inputs * outputs),
        db = take(outputs);
      const dx2 = take(rows * inputs),
        dw2 = take(inputs * outputs),
        db2 = take(outputs),
        t = take(inputs * outputs);
      for (const [p, n] of [
        [x, rows * inputs],
        [w, inputs * outputs],
        [dy, rows * outputs],
      ] as const)
        for (let i = 0; i < n; i++) f()[p / 4 + i] = 2 * r() - 1;
      k.dense_backward_f32!(x, w, dy, dx, dw, db, rows, inputs, outputs);
      // dx in two calls of rows, dW in blocks of rows starting anywhere.
      const split = Math.floor(rows / 2);
      k.dense_backward_dx_f32!(w, dy, dx2, t, split, inputs, outputs);
      k.dense_backward_dx_f32!(
        w,
        dy + split * outputs * 4,
        dx2 + split * inputs * 4,
        t,
        rows - split,
        inputs,
        outputs,
      );
      const cuts = [
        ...new Set([0, 3, 8, Math.floor(inputs / 2) + 1, inputs].map((c) => Math.min(c, inputs))),
      ].sort((a, b) => a - b);
      for (let i = 1; i < cuts.length; i++) {
        k.dense_backward_dw_f32!(
          x,
          dy,
          dw2,
          i === 1 ? db2 : 0,
          rows,
          inputs,
          outputs,
          cuts[i - 1]!,
          cuts[i]!,
        );
      }
      expect(bits(dx2, rows * inputs), `dx ${rows}x${inputs}x${outputs}`).toEqual(bits(dx, rows * inputs));
      expect(bits(dw2, inputs * outputs), `dW ${rows}x${inputs}x${outputs}`).toEqual(
        bits(dw, inputs * outputs),
      );
      expect(bits(db2, outputs)).toEqual(bits(db, outputs));
    }
  });
});
