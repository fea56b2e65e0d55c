// Dense layers and activations (src/linear.ts, internal methods of Klcore): forward and backward
// against a float64 reference at a bound derived from float32 accumulation, against central finite
// differences, the activations at every length around the vector width, both builds giving the same
// bits, inputs at odd offsets, inputs never modified, and every shape and overlap error.
import { describe, expect, it } from "vitest";
import { createInstanceSync, type Klcore, type WasmArray } from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

type Arr = WasmArray<"float32"> | Float32Array;
interface Shape {
  rows: number;
  inputs: number;
  outputs: number;
}
interface Grads {
  dw: Arr;
  db?: Arr | null;
  dx?: Arr | null;
}
/** The internal methods (stripped from the published types). */
interface Layers extends Klcore {
  denseForward(x: Arr, w: Arr, b: Arr | null, y: Arr, shape: Shape): void;
  denseBackward(x: Arr, w: Arr, dy: Arr, grads: Grads, shape: Shape): void;
  activate(fn: "relu" | "tanh", x: Arr, y: Arr, n?: number): void;
  activateBackward(fn: "relu" | "tanh", y: Arr, dy: Arr, dx: Arr, n?: number): void;
}

const simd = createInstanceSync({ simd: true }) as Layers;
const scalar = createInstanceSync({ simd: false }) as Layers;
const builds: [string, Layers][] = [
  ["simd", simd],
  ["scalar", scalar],
];

const U = 2 ** -24; // float32 unit roundoff

function uniform(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
}

/** A WasmArray of k holding a copy of `data`. */
function put(k: Klcore, data: Float32Array): WasmArray<"float32"> {
  const a = k.alloc("float32", data.length);
  a.array.set(data);
  return a;
}

/** Sums with float64 terms and the bound k u sum |term| on their float32 accumulation. */
interface Ref {
  value: Float64Array;
  bound: Float64Array;
}

function matmulRef(
  m: number,
  n: number,
  k: number,
  a: (i: number, p: number) => number,
  b: (p: number, j: number) => number,
  init?: Float32Array,
): Ref {
  const value = new Float64Array(m * n),
    bound = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = init ? init[j]! : 0;
      let t = Math.abs(s);
      for (let p = 0; p < k; p++) {
        const v = a(i, p) * b(p, j);
        s += v;
        t += Math.abs(v);
      }
      value[i * n + j] = s;
      // Each partial sum rounds once and each product once: |error| <= (k + 1) u sum |terms|.
      bound[i * n + j] = (k + 2) * U * t + 1e-30;
    }
  }
  return { value, bound };
}

function expectWithin(name: string, got: Float32Array, ref: Ref): void {
  let worst = 0;
  for (let i = 0; i < ref.value.length; i++) {
    const e = Math.abs(got[i]! - ref.value[i]!) / ref.bound[i]!;
    if (!(e <= 1))
      expect.fail(`${name}[${i}] = ${got[i]}, reference ${ref.value[i]} (bound ${ref.bound[i]})`);
    worst = Math.max(worst, e);
  }
  expect(worst).toBeLessThanOrEqual(1);
}

interface LayerData {
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  dy: Float32Array;
}

function layerData({ rows, inputs, outputs }: Shape, seed: number): LayerData {
  return {
    x: uniform(rows * inputs, seed, 2),
    w: uniform(inputs * outputs, seed + 1, 1 / Math.sqrt(inputs)),
    b: uniform(outputs, seed + 2, 0.5),
    dy: uniform(rows * outputs, seed + 3),
  };
}

interface LayerOut {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
}

/** Forward and backward in `k`, from freshly placed copies; inputs checked unmodified. */
function runLayer(k: Layers, s: Shape, d: LayerData, bias = true): LayerOut {
  const x = put(k, d.x),
    w = put(k, d.w),
    b = put(k, d.b),
    dy = put(k, d.dy);
  const y = k.alloc("float32", s.rows * s.outputs);
  const dx = k.alloc("float32", s.rows * s.inputs);
  const dw = k.alloc("float32", s.inputs * s.outputs);
  const db = k.alloc("float32", s.outputs);
  // NaN poison: every output element must be written.
  for (const a of [y, dx, dw, db]) a.array.fill(NaN);
  k.denseForward(x, w, bias ? b : null, y, s);
  k.denseBackward(x, w, dy, { dw, db, dx }, s);
  expect(x.array).toEqual(d.x);
  expect(w.array).toEqual(d.w);
  expect(b.array).toEqual(d.b);
  expect(dy.array).toEqual(d.dy);
  const out = { y: y.array.slice(), dx: dx.array.slice(), dw: dw.array.slice(), db: db.array.slice() };
  for (const a of [x, w, b, dy, y, dx, dw, db]) a.free();
  return out;
}

function checkLayer(s: Shape, d: LayerData, got: LayerOut, bias = true): void {
  const { rows, inputs: I, outputs: O } = s;
  const { x, w, b, dy } = d;
  const fwd = matmulRef(
    rows,
    O,
    I,
    (i, p) => x[i * I + p]!,
    (p, j) => w[p * O + j]!,
    bias ? b : undefined,
  );
  expectWithin("y", got.y, fwd);
  expectWithin(
    "dw",
    got.dw,
    matmulRef(
      I,
      O,
      rows,
      (i, p) => x[p * I + i]!,
      (p, j) => dy[p * O + j]!,
    ),
  );
  expectWithin(
    "db",
    got.db,
    matmulRef(
      1,
      O,
      rows,
      () => 1,
      (p, j) => dy[p * O + j]!,
    ),
  );
  expectWithin(
    "dx",
    got.dx,
    matmulRef(
      rows,
      I,
      O,
      (i, p) => dy[i * O + p]!,
      (p, j) => w[j * O + p]!,
    ),
  );
}

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe("dense layer", () => {
  const named: Shape[] = [
    { rows: 1, inputs: 1, outputs: 1 },
    { rows: 3, inputs: 5, outputs: 7 },
    { rows: 4, inputs: 8, outputs: 8 },
    { rows: 13, inputs: 17, outputs: 11 },
    { rows: 128, inputs: 128, outputs: 10 },
    { rows: 96, inputs: 33, outputs: 70 },
  ];
  for (const s of named) {
    it(`${s.rows}x${s.inputs}x${s.outputs}: float64 reference, both builds bit-identical`, () => {
      const d = layerData(s, s.rows * 7 + s.inputs * 3 + s.outputs);
      const a = runLayer(simd, s, d),
        c = runLayer(scalar, s, d);
      checkLayer(s, d, a);
      for (const key of ["y", "dx", "dw", "db"] as const) expect(sameBits(a[key], c[key]), key).toBe(true);
    });
  }

  it("128x784x128 (an MNIST hidden layer): float64 reference", () => {
    const s = { rows: 128, inputs: 784, outputs: 128 };
    const d = layerData(s, 784);
    checkLayer(s, d, runLayer(simd, s, d));
  });

  it("every shape around the tile sizes (rows 1-9, outputs 1-17), both builds, with and without bias", () => {
    for (const rows of [0, 1, 2, 3, 4, 5, 7, 8, 9]) {
      for (const inputs of [1, 3, 4, 6, 9]) {
        for (let outputs = 1; outputs <= 17; outputs++) {
          const s = { rows, inputs, outputs };
          const bias = (rows + outputs) % 2 === 0;
          const d = layerData(s, rows * 1000 + inputs * 100 + outputs);
          const a = runLayer(simd, s, d, bias),
            c = runLayer(scalar, s, d, bias);
          checkLayer(s, d, a, bias);
          for (const key of ["y", "dx", "dw", "db"] as const) {
            if (!sameBits(a[key], c[key]))
              expect.fail(`${key} differs between builds at ${JSON.stringify(s)}`);
          }
        }
      }
    }
  });

  it("gradients match central differences of L = sum(c tanh(x W + b)) + sum(y^2) / 2", () => {
    for (const [name, k] of builds) {
      for (const s of [
        { rows: 3, inputs: 5, outputs: 7 },
        { rows: 5, inputs: 4, outputs: 9 },
        { rows: 1, inputs: 2, outputs: 3 },
      ]) {
        const d = layerData(s, 42 + s.inputs);
        const c = uniform(s.rows * s.outputs, 7);
        const n = s.rows * s.outputs;
        const x = put(k, d.x),
          w = put(k, d.w),
          b = put(k, d.b);
        const z = k.alloc("float32", n),
          y = k.alloc("float32", n),
          g = k.alloc("float32", n);
        const dw = k.alloc("float32", d.w.length),
          db = k.alloc("float32", s.outputs);
        const dx = k.alloc("float32", d.x.length);
        const loss = (): number => {
          k.denseForward(x, w, b, z, s);
          k.activate("tanh", z, y);
          let l = 0;
          y.array.forEach((v, i) => (l += c[i]! * v + (v * v) / 2));
          return l;
        };
        loss();
        // dL/dy = c + y, through tanh, then the layer.
        g.array.set(y.array.map((v, i) => c[i]! + v));
        k.activateBackward("tanh", y, g, g);
        k.denseBackward(x, w, g, { dw, db, dx }, s);
        for (const [pname, p, grad] of [
          ["x", x, dx],
          ["w", w, dw],
          ["b", b, db],
        ] as const) {
          for (let i = 0; i < p.length; i++) {
            const v = p.array[i]!;
            const h = 2 ** -7;
            p.array[i] = v + h;
            const up = loss();
            p.array[i] = v - h;
            const down = loss();
            p.array[i] = v;
            const fd = (up - down) / (2 * h);
            const got = grad.array[i]!;
            if (Math.abs(got - fd) > 2e-3 * (1 + Math.abs(fd))) {
              expect.fail(`${name} ${JSON.stringify(s)} d${pname}[${i}] = ${got}, finite difference ${fd}`);
            }
          }
        }
        for (const a of [x, w, b, z, y, g, dw, db, dx]) a.free();
      }
    }
  });

  it("db and dx may be left out (a layer without bias, a first layer)", () => {
    const s = { rows: 6, inputs: 10, outputs: 12 };
    const d = layerData(s, 3);
    const full = runLayer(simd, s, d);
    for (const [, k] of builds) {
      const x = put(k, d.x),
        w = put(k, d.w),
        dy = put(k, d.dy),
        dw = k.alloc("float32", d.w.length);
      k.denseBackward(x, w, dy, { dw }, s);
      expect(sameBits(dw.array, full.dw)).toBe(true);
      k.denseBackward(x, w, dy, { dw, db: null, dx: null }, s);
      expect(sameBits(dw.array, full.dw)).toBe(true);
      for (const a of [x, w, dy, dw]) a.free();
    }
  });

  it("inputs and outputs at odd offsets give the same bits as aligned ones", () => {
    for (const [, k] of builds) {
      for (const s of [
        { rows: 5, inputs: 7, outputs: 9 },
        { rows: 8, inputs: 16, outputs: 16 },
      ]) {
        const d = layerData(s, 11);
        const aligned = runLayer(k, s, d);
        const bufs = [d.x, d.w, d.b, d.dy].map((a) => {
          const h = k.alloc("float32", a.length + 3);
          h.array.set(a, 1);
          return h;
        });
        const outs = [s.rows * s.outputs, s.rows * s.inputs, s.inputs * s.outputs, s.outputs].map((n) =>
          k.alloc("float32", n + 3),
        );
        const at = (h: WasmArray<"float32">, n: number, off: number) => h.array.subarray(off, off + n);
        const [x, w, b, dy] = bufs.map((h, i) => at(h, [d.x, d.w, d.b, d.dy][i]!.length, 1));
        const [y, dx, dw, db] = outs.map((h, i) => at(h, h.length - 3, 1 + (i % 3)));
        k.denseForward(x!, w!, b!, y!, s);
        k.denseBackward(x!, w!, dy!, { dw: dw!, db: db!, dx: dx! }, s);
        expect(sameBits(y!, aligned.y)).toBe(true);
        expect(sameBits(dx!, aligned.dx)).toBe(true);
        expect(sameBits(dw!, aligned.dw)).toBe(true);
        expect(sameBits(db!, aligned.db)).toBe(true);
        expect(x).toEqual(d.x);
        expect(w).toEqual(d.w);
        for (const h of [...bufs, ...outs]) h.free();
      }
    }
  });

  it("longer batch buffers serve a smaller batch (the last one of an epoch)", () => {
    const s = { rows: 3, inputs: 4, outputs: 5 };
    const d = layerData(s, 5);
    const want = runLayer(simd, s, d);
    const x = simd.alloc("float32", 40),
      y = simd.alloc("float32", 50);
    const w = put(simd, d.w),
      b = put(simd, d.b);
    x.array.set(d.x);
    simd.denseForward(x, w, b, y, s);
    expect(sameBits(y.array.subarray(0, 15), want.y)).toBe(true);
    for (const a of [x, y, w, b]) a.free();
  });
});

describe("activations", () => {
  const lengths = [...Array.from({ length: 16 }, (_, i) => i), 1000];

  it("relu and its gradient, every length 0-15 and 1000, both builds bit-identical", () => {
    for (const n of lengths) {
      const xs = uniform(n, n + 1, 3);
      const dys = uniform(n, n + 2);
      const results = builds.map(([, k]) => {
        const x = put(k, xs),
          y = k.alloc("float32", n),
          dy = put(k, dys),
          dx = k.alloc("float32", n);
        k.activate("relu", x, y);
        k.activateBackward("relu", y, dy, dx);
        expect(x.array).toEqual(xs);
        expect(dy.array).toEqual(dys);
        const out = [y.array.slice(), dx.array.slice()] as const;
        for (const a of [x, y, dy, dx]) a.free();
        return out;
      });
      const [y, dx] = results[0]!;
      xs.forEach((v, i) => {
        expect(y[i]).toBe(v < 0 ? 0 : v);
        expect(dx[i]).toBe(v > 0 ? dys[i] : 0);
      });
      expect(sameBits(results[0]![0], results[1]![0])).toBe(true);
      expect(sameBits(results[0]![1], results[1]![1])).toBe(true);
    }
  });

  it("relu special values: NaN stays NaN, -inf gives 0, in place", () => {
    for (const [, k] of builds) {
      const v = [NaN, -Infinity, Infinity, -0, 0, -1e-45, 1e-45, 3];
      const x = put(k, Float32Array.from(v));
      k.activate("relu", x, x);
      expect(Array.from(x.array)).toEqual([NaN, 0, Infinity, -0, 0, 0, Math.fround(1e-45), 3]);
      x.free();
    }
  });

  // Worst case of every float32 with |x| < 10 (exhaustive, against Math.tanh): 1.33 ulp.
  const TANH_ULP = 2;

  function ulpError(got: number, x: number): number {
    const want = Math.tanh(x);
    if (got === want) return 0;
    const f = Math.fround(Math.abs(want));
    const bits = new Uint32Array(new Float32Array([f]).buffer)[0]!;
    const next = new Float32Array(new Uint32Array([bits + 1]).buffer)[0]!;
    return Math.abs(got - want) / (next - f || 2 ** -149);
  }

  it(`tanh within ${TANH_ULP} ulp of Math.tanh over a dense sample, both builds`, () => {
    const r = rng(99);
    const n = 200_000;
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // Half uniform on [-12, 12], half log-uniform magnitudes in [1e-30, 12] of either sign.
      const m = i % 2 ? 24 * r() - 12 : Math.exp(Math.log(1e-30) + r() * (Math.log(12) - Math.log(1e-30)));
      xs[i] = i % 4 === 0 ? -m : m;
    }
    // And the neighbourhood of the switch between the two formulas.
    for (let i = 0; i < 64; i++) xs[i] = 0.625 + (i - 32) * 2 ** -24;
    for (const [name, k] of builds) {
      const x = put(k, xs),
        y = k.alloc("float32", n);
      k.activate("tanh", x, y);
      let worst = 0;
      y.array.forEach((v, i) => (worst = Math.max(worst, ulpError(v, xs[i]!))));
      expect(worst, name).toBeLessThanOrEqual(name === "simd" ? TANH_ULP : 0.51);
      for (const a of [x, y]) a.free();
    }
  });

  it("tanh special values: odd, exact for tiny x, +-1 for large x and +-inf, NaN stays NaN", () => {
    for (const [, k] of builds) {
      const v = [NaN, -Infinity, Infinity, -0, 0, 1e-30, -1e-30, 1e-45, 20, -20, 88, 1e30];
      const x = put(k, Float32Array.from(v)),
        y = k.alloc("float32", v.length);
      k.activate("tanh", x, y);
      const got = Array.from(y.array);
      expect(got).toEqual(
        [NaN, -1, 1, -0, 0, Math.fround(1e-30), Math.fround(-1e-30), 1e-45, 1, -1, 1, 1].map(Math.fround),
      );
      expect(Object.is(got[3], -0)).toBe(true);
      for (const a of [x, y]) a.free();
    }
  });

  it("tanh and its gradient at every length 0-15 and 1000, builds within the ulp bound", () => {
    for (const n of lengths) {
      const xs = uniform(n, n + 5, 4);
      const dys = uniform(n, n + 6);
      const [a, c] = builds.map(([, k]) => {
        const x = put(k, xs),
          y = k.alloc("float32", n),
          dy = put(k, dys),
          dx = k.alloc("float32", n);
        k.activate("tanh", x, y);
        k.activateBackward("tanh", y, dy, dx);
        expect(x.array).toEqual(xs);
        expect(dy.array).toEqual(dys);
        const yv = y.array.slice(),
          dxv = dx.array.slice();
        // dx = dy (1 - y^2), in float32.
        yv.forEach((t, i) => expect(dxv[i]).toBe(Math.fround(dys[i]! * Math.fround(1 - Math.fround(t * t)))));
        for (const h of [x, y, dy, dx]) h.free();
        return yv;
      });
      a!.forEach((v, i) => expect(ulpError(v, xs[i]!)).toBeLessThanOrEqual(TANH_ULP));
      c!.forEach((v, i) => expect(ulpError(v, xs[i]!)).toBeLessThanOrEqual(0.51));
    }
  });

  it("odd offsets and explicit n", () => {
    for (const [, k] of builds) {
      const xs = uniform(23, 8, 3);
      const h = k.alloc("float32", 30),
        out = k.alloc("float32", 30);
      h.array.set(xs, 3);
      const want = put(k, xs),
        wy = k.alloc("float32", 23);
      for (const fn of ["relu", "tanh"] as const) {
        k.activate(fn, want, wy);
        k.activate(fn, h.array.subarray(3), out.array.subarray(1), 23);
        expect(sameBits(out.array.subarray(1, 24), wy.array)).toBe(true);
        k.activate(fn, h.array.subarray(3), out.array.subarray(1), 5);
        expect(sameBits(out.array.subarray(1, 6), wy.array.subarray(0, 5))).toBe(true);
      }
      for (const a of [h, out, want, wy]) a.free();
    }
  });
});

describe("errors", () => {
  const k = simd;
  const s = { rows: 2, inputs: 3, outputs: 4 };
  const x = k.alloc("float32", 6),
    w = k.alloc("float32", 12),
    b = k.alloc("float32", 4);
  const y = k.alloc("float32", 8),
    dy = k.alloc("float32", 8),
    dw = k.alloc("float32", 12);

  it("names the argument, the need and the value", () => {
    expect(() => k.denseForward(x, k.alloc("float32", 11), b, y, s)).toThrow(
      new RangeError("w must have 12 elements (w 3 x 4); got 11"),
    );
    expect(() => k.denseForward(k.alloc("float32", 5), w, b, y, s)).toThrow(
      new RangeError("x has 5 elements; x 2 x 3 needs at least 6"),
    );
    expect(() => k.denseForward(x, w, k.alloc("float32", 3), y, s)).toThrow(
      new RangeError("b must have 4 elements (b of 4 outputs); got 3"),
    );
    expect(() => k.denseForward(x, w, b, y, { ...s, rows: 1.5 })).toThrow(
      new RangeError("rows must be an integer >= 0; got 1.5"),
    );
    expect(() => k.denseForward(x, w, b, y, { ...s, inputs: 0 })).toThrow(
      new RangeError("inputs must be a positive integer; got 0"),
    );
    expect(() => k.denseBackward(x, w, dy, { dw, db: k.alloc("float32", 5) }, s)).toThrow(
      new RangeError("grads.db must have 4 elements (grads.db of 4 outputs); got 5"),
    );
    expect(() => k.denseBackward(x, w, dy, { dw, dx: k.alloc("float32", 2) }, s)).toThrow(
      new RangeError("grads.dx has 2 elements; grads.dx 2 x 3 needs at least 6"),
    );
    expect(() => k.activate("relu", x, k.alloc("float32", 5))).toThrow(
      new RangeError("y has 5 elements; n = 6 needs at least 6"),
    );
    expect(() => k.activate("relu", x, y, -1)).toThrow(new RangeError("n must be an integer >= 0; got -1"));
  });

  it("refuses arrays outside the instance's memory, float64 ones, freed ones", () => {
    expect(() => k.denseForward(new Float32Array(6), w, b, y, s)).toThrow(TypeError);
    expect(() => k.denseForward(x, w, b, y, s)).not.toThrow();
    const f64 = k.alloc("float64", 6) as unknown as Arr;
    expect(() => k.denseForward(f64, w, b, y, s)).toThrow(/x must be a float32 WasmArray of this instance/);
    const other = scalar.alloc("float32", 6);
    expect(() => k.denseForward(other, w, b, y, s)).toThrow(TypeError);
    const freed = k.alloc("float32", 6);
    freed.free();
    expect(() => k.denseForward(freed, w, b, y, s)).toThrow(TypeError);
    expect(() => k.denseBackward(x, w, dy, {} as Grads, s)).toThrow(/grads.dw must be a float32 WasmArray/);
  });

  it("refuses outputs overlapping inputs, allows activations in place", () => {
    const big = k.alloc("float32", 64);
    const v = big.array;
    expect(() => k.denseForward(v.subarray(0, 6), w, b, v.subarray(4, 12), s)).toThrow(
      new RangeError("y must not overlap x in memory"),
    );
    expect(() => k.denseForward(x, w, b, w, s)).toThrow(new RangeError("y must not overlap w in memory"));
    expect(() => k.denseBackward(x, w, dy, { dw: w }, s)).toThrow(
      new RangeError("grads.dw must not overlap w in memory"),
    );
    expect(() => k.denseBackward(x, w, dy, { dw, dx: x }, s)).toThrow(
      new RangeError("grads.dx must not overlap x in memory"),
    );
    expect(() => k.activate("tanh", v.subarray(0, 8), v.subarray(2, 10))).toThrow(
      new RangeError("y must not overlap x in memory"),
    );
    expect(() => k.activate("tanh", v.subarray(0, 8), v.subarray(0, 8))).not.toThrow();
    expect(() => k.activateBackward("tanh", y, dy, dy)).not.toThrow();
    big.free();
  });
});
