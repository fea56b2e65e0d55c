// Models (src/models.ts): categorical, softmax regression and the MLP.
// Gradients are checked two ways. (1) Against central finite differences of a float64 JavaScript
// re-implementation of the forward pass and the loss, on tiny shapes, at the model's float32
// parameters (h = 1e-6, so truncation and rounding of the difference are far below float32 error):
// the model's float32 gradient must match to 1e-4 of the gradient's scale, and its logits the
// float64 logits. (2) For the smooth models only (categorical, softmax regression, tanh MLP),
// against central differences of the model's own float32 forward and the library's loss, perturbing
// the parameters in float32 by h = 1e-2 relative, at a loose tolerance (2% of the gradient's scale):
// relu kinks make a step that large meaningless for relu. Also: initialisation (seeded, identical
// across builds, He/Glorot limits, biases and theta 0), categorical broadcasting, buffer reuse across
// batch sizes and memory growth, flat memory across create/dispose cycles, and every shape error.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { adam, createInstanceSync, type Klcore, type Model, type WasmArray } from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const simd = createInstanceSync({ simd: true });
const scalar = createInstanceSync({ simd: false });

interface Spec {
  name: string;
  inputs: number;
  hidden: number[] | null; // null: softmax regression; categorical has inputs 0
  activation: "relu" | "tanh";
  classes: number;
}

const SPECS: Spec[] = [
  { name: "categorical", inputs: 0, hidden: null, activation: "relu", classes: 4 },
  { name: "softmax regression", inputs: 3, hidden: null, activation: "relu", classes: 4 },
  { name: "mlp relu [5]", inputs: 3, hidden: [5], activation: "relu", classes: 4 },
  { name: "mlp relu [6, 4]", inputs: 3, hidden: [6, 4], activation: "relu", classes: 3 },
  { name: "mlp tanh [5]", inputs: 3, hidden: [5], activation: "tanh", classes: 4 },
  { name: "mlp tanh [6, 4]", inputs: 3, hidden: [6, 4], activation: "tanh", classes: 3 },
];

function make(k: Klcore, s: Spec, seed = 7): Model {
  if (s.inputs === 0) return k.categorical({ classes: s.classes });
  if (s.hidden === null) return k.softmaxRegression({ inputs: s.inputs, classes: s.classes, seed });
  return k.mlp({
    inputs: s.inputs,
    hidden: s.hidden,
    classes: s.classes,
    activation: s.activation,
    seed,
  });
}

function uniform(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
}

/** Gives every parameter a nonzero value (biases and theta start at 0): init plus noise. */
function jiggle(m: Model, seed: number): void {
  m.parameters().forEach((p, i) => {
    const noise = uniform(p.length, seed + i, 0.3);
    const a = p.array;
    for (let j = 0; j < a.length; j++) a[j] = a[j]! + noise[j]!;
  });
}

/** float64 logits of the model's layer structure at float64 parameters. */
function refLogits(s: Spec, params: Float64Array[], x: Float32Array, rows: number): Float64Array {
  if (s.inputs === 0) {
    const out = new Float64Array(rows * s.classes);
    for (let r = 0; r < rows; r++) out.set(params[0]!, r * s.classes);
    return out;
  }
  const widths = [s.inputs, ...(s.hidden ?? []), s.classes];
  let h = Float64Array.from(x.subarray(0, rows * s.inputs));
  for (let l = 0; l + 1 < widths.length; l++) {
    const ni = widths[l]!,
      no = widths[l + 1]!;
    const w = params[2 * l]!,
      b = params[2 * l + 1]!;
    const y = new Float64Array(rows * no);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < no; j++) {
        let v = b[j]!;
        for (let p = 0; p < ni; p++) v += h[r * ni + p]! * w[p * no + j]!;
        const last = l + 2 === widths.length;
        y[r * no + j] = last ? v : s.activation === "relu" ? Math.max(v, 0) : Math.tanh(v);
      }
    }
    h = y;
  }
  return h;
}

type Target = { labels: Int32Array } | { soft: Float32Array };

/** Mean over rows of cross-entropy (class indices) or KL (soft targets), in float64. */
function refLoss(z: Float64Array, t: Target, rows: number, C: number): number {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const row = z.subarray(r * C, (r + 1) * C);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    if ("labels" in t) total += lse - row[t.labels[r]!]!;
    else {
      for (let j = 0; j < C; j++) {
        const p = t.soft[r * C + j]!;
        if (p > 0) total += p * (Math.log(p) - (row[j]! - lse));
      }
    }
  }
  return total / rows;
}

function data(s: Spec, rows: number, seed: number): { x: Float32Array; t: Target; soft: Float32Array } {
  const r = rng(seed);
  const x = uniform(rows * Math.max(s.inputs, 1), seed + 1);
  const labels = Int32Array.from({ length: rows }, () => Math.floor(r() * s.classes));
  const soft = new Float32Array(rows * s.classes);
  for (let i = 0; i < rows; i++) {
    const raw = Array.from({ length: s.classes }, () => 0.05 + r());
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, j) => (soft[i * s.classes + j] = v / sum));
  }
  return { x, t: { labels }, soft };
}

/** The model's loss and gradients (copied out) for target t, through the library's fused loss. */
function modelGradient(
  k: Klcore,
  m: Model,
  x: WasmArray<"float32">,
  rows: number,
  t: Target,
): { loss: number; logits: Float32Array; grads: Float32Array[] } {
  const g = k.alloc("float32", rows * m.classes);
  const tgt = "labels" in t ? t.labels : k.alloc("float32", rows * m.classes);
  if (!("labels" in t)) (tgt as WasmArray<"float32">).array.set(t.soft);
  // Allocations first: they may grow memory, which would detach the logits view.
  const logits = m.forward(m.kind === "categorical" ? null : x, rows);
  // The loss may grow its scratch (detaching the view): copy the logits first.
  const logitsCopy = logits.slice();
  const o = { classes: m.classes, reduction: "mean" as const, grad: g.array };
  const { loss } =
    "labels" in t
      ? k.crossEntropyWithLogits(t.labels, logits, o)
      : k.klWithLogits(tgt as WasmArray<"float32">, logits, o);
  m.backward(g, rows);
  const grads = m.gradients().map((a) => a.array.slice());
  g.free();
  if (!("labels" in t)) (tgt as WasmArray<"float32">).free();
  return { loss, logits: logitsCopy, grads };
}

const maxAbs = (arrays: ArrayLike<number>[]): number =>
  Math.max(...arrays.map((a) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0)));

function checkAgainstFloat64(
  k: Klcore,
  s: Spec,
  t: (d: ReturnType<typeof data>) => Target,
  seed: number,
): void {
  const rows = 6;
  const m = make(k, s, seed);
  jiggle(m, seed * 31);
  const d = data(s, rows, seed);
  const x = k.alloc("float32", d.x.length);
  x.array.set(d.x);
  const target = t(d);
  const got = modelGradient(k, m, x, rows, target);
  const params = m.parameters().map((p) => Float64Array.from(p.array));

  const z = refLogits(s, params, d.x, rows);
  let zScale = 1;
  z.forEach((v) => (zScale = Math.max(zScale, Math.abs(v))));
  got.logits.forEach((v, i) => expect(Math.abs(v - z[i]!)).toBeLessThan(1e-5 * zScale));
  expect(Math.abs(got.loss - refLoss(z, target, rows, s.classes))).toBeLessThan(1e-5 * Math.max(1, got.loss));

  const h = 1e-6;
  const fd = params.map((p) =>
    Float64Array.from(p, (v, j) => {
      p[j] = v + h;
      const up = refLoss(refLogits(s, params, d.x, rows), target, rows, s.classes);
      p[j] = v - h;
      const down = refLoss(refLogits(s, params, d.x, rows), target, rows, s.classes);
      p[j] = v;
      return (up - down) / (2 * h);
    }),
  );
  const scale = maxAbs(fd);
  expect(scale).toBeGreaterThan(1e-3); // a meaningful loss surface
  got.grads.forEach((g, i) => {
    expect(g.length).toBe(fd[i]!.length);
    g.forEach((v, j) => expect(Math.abs(v - fd[i]![j]!), `param ${i}[${j}]`).toBeLessThan(1e-4 * scale));
  });
  x.free();
  m.dispose();
}

describe("gradients against float64 finite differences", () => {
  for (const s of SPECS) {
    it(`${s.name}: cross-entropy with class indices`, () => {
      for (const k of [simd, scalar])
        for (const seed of [1, 2, 3]) checkAgainstFloat64(k, s, (d) => d.t, seed);
    });
  }
  for (const s of SPECS.filter((s) => s.name === "softmax regression" || s.name.startsWith("mlp tanh"))) {
    it(`${s.name}: KL with soft targets`, () => {
      for (const k of [simd, scalar]) {
        for (const seed of [4, 5]) checkAgainstFloat64(k, s, (d) => ({ soft: d.soft }), seed);
      }
    });
  }
});

describe("gradients against float32 finite differences of the model itself", () => {
  for (const s of SPECS.filter((s) => s.activation === "tanh" || s.hidden === null)) {
    it(`${s.name}`, () => {
      const k = simd;
      const rows = 5;
      const m = make(k, s, 11);
      jiggle(m, 99);
      const d = data(s, rows, 12);
      const x = k.alloc("float32", d.x.length);
      x.array.set(d.x);
      const g = k.alloc("float32", rows * s.classes);
      const o = { classes: s.classes, reduction: "mean" as const };
      const loss = (): number =>
        k.crossEntropyWithLogits(
          (d.t as { labels: Int32Array }).labels,
          m.forward(s.inputs ? x : null, rows),
          o,
        ).loss;
      const logits = m.forward(s.inputs ? x : null, rows);
      k.crossEntropyWithLogits((d.t as { labels: Int32Array }).labels, logits, { ...o, grad: g.array });
      m.backward(g, rows);
      const grads = m.gradients().map((a) => a.array.slice());
      const fd = m.parameters().map((p) =>
        Float64Array.from(p.array, (v, j) => {
          const h = 1e-2 * Math.max(Math.abs(v), 0.1);
          const a = p.array;
          a[j] = v + h;
          const hiStep = a[j]!;
          const up = loss();
          a[j] = v - h;
          const loStep = a[j]!;
          const down = loss();
          a[j] = v;
          return (up - down) / (hiStep - loStep);
        }),
      );
      const scale = maxAbs(fd);
      grads.forEach((gr, i) =>
        gr.forEach((v, j) => expect(Math.abs(v - fd[i]![j]!), `param ${i}[${j}]`).toBeLessThan(0.02 * scale)),
      );
      x.free();
      g.free();
      m.dispose();
    });
  }
});

describe("initialisation", () => {
  it("same seed, same parameters (in both builds); another seed, others", () => {
    for (const s of SPECS.slice(1)) {
      const a = make(simd, s, 42),
        b = make(simd, s, 42),
        c = make(scalar, s, 42),
        other = make(simd, s, 43);
      const pa = a.parameters().map((p) => p.array.slice());
      [b, c].forEach((m) => m.parameters().forEach((p, i) => expect(p.array).toEqual(pa[i])));
      expect(other.parameters()[0]!.array).not.toEqual(pa[0]);
      [a, b, c, other].forEach((m) => m.dispose());
    }
  });

  it("He-uniform for relu, Glorot-uniform for tanh and the output layer, biases 0", () => {
    for (const activation of ["relu", "tanh"] as const) {
      const m = simd.mlp({ inputs: 64, hidden: [128, 32], classes: 10, activation, seed: 3 });
      const ps = m.parameters();
      expect(ps.map((p) => p.length)).toEqual([64 * 128, 128, 128 * 32, 32, 32 * 10, 10]);
      expect(m.gradients().map((p) => p.length)).toEqual(ps.map((p) => p.length));
      const limits =
        activation === "relu"
          ? [Math.sqrt(6 / 64), Math.sqrt(6 / 128), Math.sqrt(6 / 42)]
          : [Math.sqrt(6 / 192), Math.sqrt(6 / 160), Math.sqrt(6 / 42)];
      limits.forEach((limit, l) => {
        const w = Array.from(ps[2 * l]!.array);
        const big = Math.max(...w.map(Math.abs));
        expect(big).toBeLessThanOrEqual(limit);
        expect(big).toBeGreaterThan(0.9 * limit);
        expect(Math.abs(w.reduce((a, v) => a + v, 0) / w.length)).toBeLessThan(0.1 * limit);
        expect(Array.from(ps[2 * l + 1]!.array).every((v) => v === 0)).toBe(true);
      });
      m.dispose();
    }
  });

  it("categorical starts uniform: theta 0, the only parameter; it takes no seed", () => {
    expect(() => simd.categorical({ classes: 5, seed: 9 } as never)).toThrow(/categorical.*seed/);
    const m = simd.categorical({ classes: 5 });
    expect(m.parameters().length).toBe(1);
    expect(Array.from(m.parameters()[0]!.array)).toEqual([0, 0, 0, 0, 0]);
    expect(m.kind).toBe("categorical");
    expect(m.inputs).toBe(0);
    m.dispose();
  });
});

describe("forward", () => {
  it("categorical broadcasts theta to every row; its gradient is the column sums", () => {
    const m = simd.categorical({ classes: 3 });
    m.parameters()[0]!.array.set([0.5, -1, 2]);
    const z = m.forward(null, 4);
    expect(Array.from(z)).toEqual([0.5, -1, 2, 0.5, -1, 2, 0.5, -1, 2, 0.5, -1, 2]);
    expect(m.forward(null, 0).length).toBe(0);
    m.forward(null, 2);
    const dz = simd.alloc("float32", 6);
    dz.array.set([1, 2, 3, 10, 20, 30]);
    m.backward(dz);
    expect(Array.from(m.gradients()[0]!.array)).toEqual([11, 22, 33]);
    dz.free();
    m.dispose();
  });

  it("buffers for the largest batch serve smaller ones; x may be longer than rows", () => {
    const k = simd;
    const s = SPECS[3]!;
    const m = make(k, s);
    const big = uniform(50 * s.inputs, 5);
    const x = k.alloc("float32", big.length);
    x.array.set(big);
    const all = m.forward(x).slice();
    expect(all.length).toBe(50 * s.classes);
    const mem = k.backend().memoryBytes;
    const few = m.forward(x, 7);
    expect(few.length).toBe(7 * s.classes);
    expect(few).toEqual(all.subarray(0, 7 * s.classes));
    expect(k.backend().memoryBytes).toBe(mem);
    x.free();
    m.dispose();
  });

  it("a view of x stays usable when the first forward grows memory", () => {
    const k = createInstanceSync();
    const rows = 2048,
      inputs = 64;
    const m = k.mlp({ inputs, hidden: [256, 128], classes: 10, activation: "tanh", seed: 1 });
    const x = k.alloc("float32", rows * inputs);
    x.array.set(uniform(rows * inputs, 8));
    const before = k.backend().memoryBytes;
    const viaView = m.forward(x.array, rows).slice();
    expect(k.backend().memoryBytes).toBeGreaterThan(before);
    const viaArray = m.forward(x, rows);
    expect(viaView).toEqual(viaArray);
    // backward re-derives the view of x too.
    const g = k.alloc("float32", rows * 10);
    g.array.fill(1e-3);
    m.forward(x.array, rows);
    m.backward(g.array, rows);
    const fromView = m.gradients().map((a) => a.array.slice());
    m.forward(x, rows);
    m.backward(g, rows);
    m.gradients().forEach((a, i) => expect(a.array).toEqual(fromView[i]));
    m.dispose();
  });
});

describe("dispose", () => {
  it("frees every array; memory stays flat across create, train and dispose cycles", () => {
    const k = createInstanceSync();
    const x = k.alloc("float32", 32 * 8);
    x.array.set(uniform(32 * 8, 3));
    const g = k.alloc("float32", 32 * 5);
    g.array.fill(0.01);
    const cycle = (i: number): Model => {
      const m =
        i % 3 === 0
          ? k.categorical({ classes: 5 })
          : i % 3 === 1
            ? k.softmaxRegression({ inputs: 8, classes: 5 })
            : k.mlp({ inputs: 8, hidden: [64, 32], classes: 5, activation: "relu", seed: i });
      m.forward(m.kind === "categorical" ? null : x, 32);
      m.backward(g, 32);
      m.dispose();
      return m;
    };
    for (let i = 0; i < 3; i++) cycle(i);
    const flat = k.backend().memoryBytes;
    for (let i = 0; i < 600; i++) cycle(i);
    expect(k.backend().memoryBytes).toBe(flat);

    const m = k.mlp({ inputs: 8, hidden: [4], classes: 5 });
    const ps = [...m.parameters(), ...m.gradients()];
    m.dispose();
    expect(ps.every((p) => p.freed)).toBe(true);
    m.dispose(); // twice: a no-op
    expect(() => m.forward(x)).toThrow(/disposed/);
    expect(() => m.parameters()).toThrow(/disposed/);
    expect(() => m.backward(g)).toThrow(/disposed/);
  });
});

describe("models never disposed", () => {
  // The engine collects on its own schedule; the test asks for a collection (as a long-running
  // program's heap pressure would) and waits a turn for the finalisers.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  // Two passes: a finaliser runs in a later task, and a busy worker may defer it once.
  const collect = async (): Promise<void> => {
    for (let i = 0; i < 2; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };

  it("give their memory back when collected: 3,000 models and optimisers in a loop stay flat", async () => {
    for (const k of [createInstanceSync({ simd: true }), createInstanceSync({ simd: false })]) {
      const x = new Float32Array(64 * 16).fill(0.5);
      const round = async (from: number): Promise<void> => {
        for (let i = from; i < from + 100; i++) {
          const m = k.mlp({ inputs: 64, hidden: [64], classes: 10, seed: i });
          m.predict(x);
          const o = adam();
          o.step(m.parameters(), m.gradients());
        }
        await collect();
      };
      await round(0);
      const flat = k.backend().memoryBytes;
      for (let i = 100; i < 3000; i += 100) await round(i);
      // Each model and its optimiser hold about 150 KB: 455 MB had they been kept, 15 MB a round.
      expect(k.backend().memoryBytes - flat).toBeLessThanOrEqual(32 << 20);
      // An array the caller still holds outlives its model, and dispose() frees at once as before.
      const m = k.softmaxRegression({ inputs: 3, classes: 2, seed: 1 });
      const weights = m.parameters()[0]!;
      const kept = weights.array.slice();
      await collect();
      expect(weights.freed).toBe(false);
      expect(weights.array).toEqual(kept);
      m.dispose();
      expect(weights.freed).toBe(true);
    }
  });
});

describe("errors", () => {
  const k = simd;
  const m = k.mlp({ inputs: 3, hidden: [4], classes: 2 });
  const x = k.alloc("float32", 12);

  it("shapes: x and dLogits of whole rows, enough rows, backward after forward with its rows", () => {
    const fresh = k.softmaxRegression({ inputs: 3, classes: 2 });
    const g = k.alloc("float32", 8);
    expect(() => fresh.backward(g, 4)).toThrow(RangeError);
    expect(() => fresh.backward(g, 4)).toThrow(/needs a forward first/);
    fresh.dispose();

    const x7 = k.alloc("float32", 7);
    expect(() => m.forward(x7)).toThrow(RangeError);
    expect(() => m.forward(x7)).toThrow("x has 7 elements, not a multiple of inputs (3)");
    expect(() => m.forward(x, 5)).toThrow("x holds 4 rows; rows is 5");
    expect(() => m.forward(x, 1.5)).toThrow(RangeError);
    expect(() => m.forward(x, -1)).toThrow(/rows must be an integer >= 0/);
    m.forward(x, 4);
    expect(() => m.backward(g, 3)).toThrow("backward must use the rows of the last forward (4); got 3");
    expect(() => m.backward(x7)).toThrow("dLogits has 7 elements, not a multiple of classes (2)");
    const g3 = k.alloc("float32", 6);
    expect(() => m.backward(g3)).toThrow("dLogits holds 3 rows; rows is 4");
    expect(() => k.categorical({ classes: 2 }).forward(null)).toThrow(/rows must be an integer >= 0/);
    [x7, g, g3].forEach((a) => a.free());
  });

  it("arrays: float32 of this instance", () => {
    const x64 = k.alloc("float64", 12);
    expect(() => m.forward(x64 as never)).toThrow(TypeError);
    expect(() => m.forward(new Float32Array(12))).toThrow(/float32 WasmArray of this instance/);
    const other = scalar.alloc("float32", 12);
    expect(() => m.forward(other)).toThrow(TypeError);
    expect(() => m.backward([0, 1] as never)).toThrow(/dLogits must be a float32 WasmArray/);
    x64.free();
    other.free();
  });

  it("options", () => {
    expect(() => k.categorical({ classes: 0 })).toThrow("classes must be a positive integer; got 0");
    expect(() => k.softmaxRegression({ inputs: 2.5, classes: 3 })).toThrow(RangeError);
    expect(() => k.mlp({ inputs: 2, hidden: [3, 0], classes: 2 })).toThrow(
      "hidden[1] must be a positive integer; got 0",
    );
    expect(() => k.mlp({ inputs: 2, hidden: 3 as never, classes: 2 })).toThrow(TypeError);
    expect(() => k.mlp({ inputs: 2, hidden: [3], classes: 2, activation: "sigmoid" as never })).toThrow(
      TypeError,
    );
    expect(() => k.softmaxRegression({ inputs: 2, classes: 2, seed: 0.5 })).toThrow(
      "seed must be an integer; got 0.5",
    );
    expect(() => k.softmaxRegression({ inputs: 2, classes: 2, hidden: [2] } as never)).toThrow(
      /unknown option 'hidden'/,
    );
  });
});
