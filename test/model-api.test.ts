// The public model API: predict (against the softmax of forward()'s logits and a float64 softmax,
// temperature, chunking, every input form), evaluate (every loss, class indices and soft targets,
// against a float64 computation from predict's output), toJSON/loadModel (an exact round trip of the
// bits, into either build, and every malformed input refused), the descriptive fields,
// parameters() views, and dispose().
import { describe, expect, it } from "vitest";
import {
  alloc,
  categorical,
  createInstanceSync,
  fit,
  loadModel,
  mlp,
  softmax,
  softmaxRegression,
  type LossName,
  type Model,
  type ModelJSON,
} from "../dist/index.js";
import { rng } from "./helpers/fixtures.js";

const INPUTS = 3;
const CLASSES = 4;

const uniform = (n: number, seed: number, scale = 1): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
};

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.slice().buffer));
const paramBits = (m: Model): number[][] => m.parameters().map((p) => bits(p.array));

/** Adds U(-0.5, 0.5) to every parameter (biases start at 0). */
function jiggle(m: Model, seed: number): Model {
  const r = rng(seed);
  for (const p of m.parameters()) {
    const a = p.array;
    for (let j = 0; j < a.length; j++) a[j] = a[j]! + (r() - 0.5);
  }
  return m;
}

const models = (): Record<string, Model> => ({
  categorical: jiggle(categorical({ classes: CLASSES }), 1),
  "softmax regression": jiggle(softmaxRegression({ inputs: INPUTS, classes: CLASSES, seed: 2 }), 2),
  "mlp relu": jiggle(mlp({ inputs: INPUTS, hidden: [5], classes: CLASSES, seed: 3 }), 3),
  "mlp tanh [6, 5]": jiggle(
    mlp({ inputs: INPUTS, hidden: [6, 5], classes: CLASSES, activation: "tanh", seed: 4 }),
    4,
  ),
});

/** The logits of every row through forward(), x placed in wasm memory. */
function logitsOf(m: Model, x: Float32Array | null, rows: number): Float32Array {
  if (x === null) return m.forward(null, rows).slice();
  const a = alloc("float32", x.length);
  a.array.set(x);
  const z = m.forward(a).slice();
  a.free();
  return z;
}

function softmax64(z: ArrayLike<number>, classes: number, temperature = 1): Float64Array {
  const out = new Float64Array(z.length);
  for (let r = 0; r < z.length / classes; r++) {
    const row = Array.from({ length: classes }, (_, j) => z[r * classes + j]! / temperature);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (out[r * classes + j] = v / s));
  }
  return out;
}

const argmax = (a: ArrayLike<number>, from: number, n: number): number => {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[from + j]! > a[from + best]!) best = j;
  return best;
};

describe("predict", () => {
  const rows = 37;
  const x = uniform(rows * INPUTS, 10, 2);

  it("rows x classes probabilities: the softmax of forward()'s logits, exactly", () => {
    for (const [name, m] of Object.entries(models())) {
      const input = m.kind === "categorical" ? null : x;
      const n = input ? rows : 1;
      const p = m.predict(input);
      expect(p, name).toBeInstanceOf(Float32Array);
      expect(p.length).toBe(n * CLASSES);
      const z = logitsOf(m, input, n);
      expect(bits(p), name).toEqual(bits(softmax<Float32Array>(z, { classes: CLASSES })));
      const ref = softmax64(z, CLASSES);
      p.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-6));
      for (let r = 0; r < n; r++) {
        let sum = 0;
        for (let j = 0; j < CLASSES; j++) sum += p[r * CLASSES + j]!;
        expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
      }
      m.dispose();
    }
  });

  it("temperature divides the logits", () => {
    const m = models()["mlp relu"]!;
    const z = logitsOf(m, x, rows);
    const hot = m.predict(x, { temperature: 0.5 });
    const cold = m.predict(x, { temperature: 3 });
    expect(bits(hot)).toEqual(bits(softmax<Float32Array>(z, { classes: CLASSES, temperature: 0.5 })));
    expect(bits(cold)).toEqual(bits(softmax<Float32Array>(z, { classes: CLASSES, temperature: 3 })));
    const ref = softmax64(z, CLASSES, 3);
    cold.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-6));
    // A higher temperature flattens every row: its largest probability shrinks.
    for (let r = 0; r < rows; r++) {
      const top = argmax(hot, r * CLASSES, CLASSES);
      expect(cold[r * CLASSES + top]).toBeLessThan(hot[r * CLASSES + top]!);
    }
    m.dispose();
  });

  it("any batchSize gives the same bits as one chunk", () => {
    const m = models()["mlp tanh [6, 5]"]!;
    const whole = bits(m.predict(x));
    for (const batchSize of [1, 2, 5, 36, 37, 1000]) expect(bits(m.predict(x, { batchSize }))).toEqual(whole);
    m.dispose();
  });

  it("every input form gives the same result; the caller's x is not written", () => {
    const m = models()["softmax regression"]!;
    const copy = x.slice();
    const want = bits(m.predict(x));
    const rowsOfX = Array.from({ length: rows }, (_, r) =>
      Array.from(x.subarray(r * INPUTS, (r + 1) * INPUTS)),
    );
    const inWasm = alloc("float32", x.length);
    inWasm.array.set(x);
    expect(bits(m.predict(Float64Array.from(x)))).toEqual(want);
    expect(bits(m.predict(Array.from(x)))).toEqual(want);
    expect(bits(m.predict(rowsOfX))).toEqual(want);
    expect(bits(m.predict(rowsOfX.map((r) => Float64Array.from(r))))).toEqual(want);
    expect(bits(m.predict(inWasm))).toEqual(want);
    expect(bits(m.predict(inWasm.array))).toEqual(want); // a view of wasm memory
    expect(x).toEqual(copy);
    // The result is the caller's: outside wasm memory.
    expect(m.predict(x).buffer).not.toBe(inWasm.array.buffer);
    inWasm.free();
    m.dispose();
  });

  it("categorical: one distribution, softmax(theta), with no x (absent or null)", () => {
    const m = categorical({ classes: 5 });
    expect(Array.from(m.predict())).toEqual([0.2, 0.2, 0.2, 0.2, 0.2].map(Math.fround));
    m.parameters()[0]!.array.set([1, 0, -1, 2, 0.5]);
    const p = m.predict();
    expect(bits(p)).toEqual(bits(m.predict(null)));
    const ref = softmax64([1, 0, -1, 2, 0.5], 5);
    p.forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-7));
    expect(() => m.predict([[1]])).toThrow(TypeError);
    expect(() => m.predict(new Float32Array(5))).toThrow(
      "a categorical model takes no input: pass null or nothing for x; got Float32Array",
    );
    m.dispose();
  });

  it("errors name the problem", () => {
    const m = models()["mlp relu"]!;
    expect(() => m.predict(new Float32Array(7))).toThrow(RangeError);
    expect(() => m.predict(new Float32Array(7))).toThrow("x has 7 elements, not a multiple of inputs (3)");
    expect(() => m.predict(undefined)).toThrow(/^x must be a Float32Array or Float64Array/);
    expect(() => m.predict(Float32Array.of(0, NaN, 0))).toThrow("x row 0, column 1 must be finite");
    expect(() => m.predict(x, { temperature: 0 })).toThrow(RangeError);
    expect(() => m.predict(x, { temperature: -1 })).toThrow(
      "temperature must be a finite number > 0; got -1",
    );
    expect(() => m.predict(x, { batchSize: 0 })).toThrow("batchSize must be a positive integer; got 0");
    expect(() => m.predict(x, { loss: "kl" } as never)).toThrow(TypeError);
    expect(() => m.predict(x, { loss: "kl" } as never)).toThrow(/^predict: unknown option 'loss'/);
    m.dispose();
  });
});

// ---- evaluate ----------------------------------------------------------------------------------

/** The mean of each loss, the KL and the accuracy, in float64 from predicted probabilities q. */
function reference(
  loss: LossName,
  q: Float32Array,
  t: Float64Array,
  classes: number,
): { loss: number; kl: number; accuracy: number } {
  const rows = q.length / classes;
  let total = 0;
  let klSum = 0;
  let correct = 0;
  const klRow = (a: number[], b: number[]): number =>
    a.reduce((s, v, j) => (v > 0 ? s + v * Math.log(v / b[j]!) : s), 0);
  for (let r = 0; r < rows; r++) {
    const qr = Array.from(q.subarray(r * classes, (r + 1) * classes), Number);
    const tr = Array.from(t.subarray(r * classes, (r + 1) * classes));
    const m = qr.map((v, j) => (v + tr[j]!) / 2);
    total += {
      kl: () => klRow(tr, qr),
      "cross-entropy": () => tr.reduce((s, v, j) => (v > 0 ? s - v * Math.log(qr[j]!) : s), 0),
      mse: () => qr.reduce((s, v, j) => s + (v - tr[j]!) ** 2, 0),
      l1: () => qr.reduce((s, v, j) => s + Math.abs(v - tr[j]!), 0),
      js: () => klRow(tr, m) / 2 + klRow(qr, m) / 2,
    }[loss]();
    klSum += klRow(tr, qr);
    if (argmax(qr, 0, classes) === argmax(tr, 0, classes)) correct++;
  }
  return { loss: total / rows, kl: klSum / rows, accuracy: correct / rows };
}

describe("evaluate", () => {
  const rows = 50;
  const x = uniform(rows * INPUTS, 20, 2);
  const r = rng(21);
  const labels = Int32Array.from({ length: rows }, () => Math.floor(r() * CLASSES));
  const oneHot = new Float64Array(rows * CLASSES);
  labels.forEach((c, i) => (oneHot[i * CLASSES + c] = 1));
  const soft = new Float32Array(rows * CLASSES);
  for (let i = 0; i < rows; i++) {
    // Some exact zeros: 0 ln 0 = 0 in every loss.
    const raw = Array.from({ length: CLASSES }, () => (r() < 0.2 ? 0 : r()));
    raw[i % CLASSES] = raw[i % CLASSES]! + 0.1;
    const s = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, j) => (soft[i * CLASSES + j] = v / s));
  }
  const LOSSES: LossName[] = ["kl", "cross-entropy", "mse", "l1", "js"];

  const close = (got: number, want: number, what: string): void =>
    expect(Math.abs(got - want), `${what}: ${got} vs ${want}`).toBeLessThan(
      2e-6 * Math.max(1, Math.abs(want)),
    );

  it("every loss, class indices and soft targets, against predict's output in float64", () => {
    for (const [name, m] of Object.entries(models())) {
      const input = m.kind === "categorical" ? null : x;
      const q = m.kind === "categorical" ? new Float32Array(rows * CLASSES) : m.predict(x);
      if (m.kind === "categorical") for (let i = 0; i < rows; i++) q.set(m.predict(), i * CLASSES);
      for (const loss of LOSSES) {
        for (const [kind, y, t] of [
          ["indices", labels, oneHot],
          ["soft", soft, Float64Array.from(soft)],
        ] as const) {
          const e = m.evaluate(input, y, { loss });
          const want = reference(loss, q, t, CLASSES);
          const what = `${name} ${loss} ${kind}`;
          expect(e.rows).toBe(rows);
          close(e.loss, want.loss, what);
          close(e.kl, want.kl, `${what} kl`);
          expect(e.accuracy, what).toBe(want.accuracy);
        }
      }
      m.dispose();
    }
  });

  it("class indices: kl and cross-entropy are the same number", () => {
    const m = models()["mlp relu"]!;
    const a = m.evaluate(x, labels);
    const b = m.evaluate(x, labels, { loss: "cross-entropy" });
    expect(a.loss).toBe(b.loss);
    expect(a.kl).toBe(a.loss);
    expect(b.kl).toBe(b.loss);
    // number[] and other integer arrays are class indices too.
    expect(m.evaluate(x, Array.from(labels))).toEqual(a);
    expect(m.evaluate(x, Uint8Array.from(labels))).toEqual(a);
    // Soft targets as rows of numbers.
    const rowsOfSoft = Array.from({ length: rows }, (_, i) => Array.from(soft.subarray(i * 4, i * 4 + 4)));
    expect(m.evaluate(x, rowsOfSoft, { loss: "js" })).toEqual(m.evaluate(x, soft, { loss: "js" }));
    m.dispose();
  });

  it("temperature and batchSize", () => {
    const m = models()["mlp tanh [6, 5]"]!;
    for (const loss of LOSSES) {
      const e = m.evaluate(x, soft, { loss, temperature: 2.5 });
      const want = reference(loss, m.predict(x, { temperature: 2.5 }), Float64Array.from(soft), CLASSES);
      close(e.loss, want.loss, `${loss} T=2.5`);
      close(e.kl, want.kl, `${loss} T=2.5 kl`);
      const chunked = m.evaluate(x, soft, { loss, temperature: 2.5, batchSize: 7 });
      expect(chunked.loss).toBeCloseTo(e.loss, 12);
      expect(chunked.kl).toBeCloseTo(e.kl, 12);
      expect(chunked.accuracy).toBe(e.accuracy);
    }
    m.dispose();
  });

  it("errors name the problem", () => {
    const m = models()["softmax regression"]!;
    expect(() => m.evaluate(x, labels, { loss: "nll" as LossName })).toThrow(TypeError);
    expect(() => m.evaluate(x, labels.subarray(1))).toThrow("x has 50 rows but y has 49");
    expect(() => m.evaluate(x, Int32Array.of(...labels.subarray(1), 4))).toThrow(
      "y[49] must be a class index, an integer in [0, 4); got 4",
    );
    expect(() =>
      m.evaluate(
        x,
        soft.map((v) => v * 2),
      ),
    ).toThrow(/^y row 0 sums to 1\.99999\d+, not 1/);
    expect(() => m.evaluate(x, labels, { batchSize: -3 })).toThrow(RangeError);
    expect(() => categorical({ classes: 4 }).evaluate(x, labels)).toThrow(/takes no input/);
    m.dispose();
  });
});

// ---- saving and loading ------------------------------------------------------------------------

describe("toJSON and loadModel", () => {
  it("toJSON describes the architecture and every parameter array", () => {
    const m = mlp({ inputs: 3, hidden: [5, 2], classes: 4, activation: "tanh", seed: 1 });
    const j = m.toJSON();
    expect({ ...j, parameters: j.parameters.map(({ name, shape }) => ({ name, shape })) }).toEqual({
      format: "klcore-model",
      version: 1,
      kind: "mlp",
      inputs: 3,
      hidden: [5, 2],
      classes: 4,
      activation: "tanh",
      parameters: [
        { name: "dense0.weight", shape: [3, 5] },
        { name: "dense0.bias", shape: [5] },
        { name: "dense1.weight", shape: [5, 2] },
        { name: "dense1.bias", shape: [2] },
        { name: "dense2.weight", shape: [2, 4] },
        { name: "dense2.bias", shape: [4] },
      ],
    });
    // Base64 of the float32 little-endian bytes.
    const w = m.parameters()[0]!.array;
    const decoded = new Float32Array(Uint8Array.from(Buffer.from(j.parameters[0]!.data, "base64")).buffer);
    expect(bits(decoded)).toEqual(bits(w));
    const c = categorical({ classes: 3 }).toJSON();
    expect(c.kind).toBe("categorical");
    expect(c.inputs).toBe(0);
    expect(c.activation).toBeNull();
    expect(c.parameters.map((p) => [p.name, p.shape])).toEqual([["theta", [3]]]);
    const s = softmaxRegression({ inputs: 2, classes: 3 }).toJSON();
    expect([s.kind, s.hidden, s.activation]).toEqual(["softmaxRegression", [], null]);
    expect(s.parameters.map((p) => [p.name, p.shape])).toEqual([
      ["dense0.weight", [2, 3]],
      ["dense0.bias", [3]],
    ]);
    m.dispose();
  });

  it("round trip: every bit (a -0, a subnormal, extremes), predictions, from an object or text", () => {
    const x = uniform(20 * INPUTS, 30, 2);
    for (const [name, m] of Object.entries(models())) {
      const [first, second] = m.parameters();
      first!.array[0] = -0;
      first!.array[1] = 1e-45; // the smallest subnormal float32
      (second ?? first)!.array[2] = -3.4028234663852886e38; // -FLT_MAX
      const text = JSON.stringify(m);
      expect(text).toBe(JSON.stringify(m.toJSON()));
      const input = m.kind === "categorical" ? null : x;
      for (const loaded of [
        loadModel(m.toJSON()),
        loadModel(text),
        loadModel(JSON.parse(text) as ModelJSON),
      ]) {
        expect(loaded, name).not.toBe(m);
        expect([loaded.kind, loaded.inputs, loaded.hidden, loaded.classes, loaded.activation]).toEqual([
          m.kind,
          m.inputs,
          m.hidden,
          m.classes,
          m.activation,
        ]);
        expect(loaded.parameterCount).toBe(m.parameterCount);
        expect(paramBits(loaded), name).toEqual(paramBits(m));
        expect(Object.is(loaded.parameters()[0]!.array[0], -0)).toBe(true);
        expect(loaded.parameters()[0]!.array[1]).toBe(Math.fround(1e-45));
        expect(bits(loaded.predict(input))).toEqual(bits(m.predict(input)));
        expect(JSON.stringify(loaded)).toBe(text);
        loaded.dispose();
      }
      m.dispose();
    }
  });

  it("the loaded model is independent of the saved one, and trains", async () => {
    const m = models()["mlp relu"]!;
    const copy = loadModel(m.toJSON());
    const saved = paramBits(copy);
    m.parameters()[0]!.array.fill(0);
    expect(paramBits(copy)).toEqual(saved);
    const r = rng(3);
    const x = uniform(16 * INPUTS, 31);
    const y = Int32Array.from({ length: 16 }, () => Math.floor(r() * CLASSES));
    const result = await fit(copy, { x, y }, { optimizer: "sgd", learningRate: 0.1, epochs: 2 });
    expect(result.stopReason).toBe("completed");
    expect(paramBits(copy)).not.toEqual(saved);
    m.dispose();
    copy.dispose();
  });

  it("loads into another instance, the scalar build: same bits, same predictions to float32 rounding", () => {
    const scalar = createInstanceSync({ simd: false });
    expect(scalar.backend().simd).toBe(false);
    const x = uniform(20 * INPUTS, 32, 2);
    for (const [name, m] of Object.entries(models())) {
      const there = scalar.loadModel(JSON.stringify(m));
      expect(paramBits(there), name).toEqual(paramBits(m));
      const input = m.kind === "categorical" ? null : x;
      const a = m.predict(input);
      const b = there.predict(input);
      // The builds may sum in another order: equal within a few float32 ulps.
      a.forEach((v, i) => expect(Math.abs(v - b[i]!), name).toBeLessThan(1e-6));
      // And back again, exactly.
      expect(paramBits(loadModel(there.toJSON()))).toEqual(paramBits(m));
      there.dispose();
      m.dispose();
    }
  });

  describe("malformed input is refused, naming the problem", () => {
    const good = mlp({ inputs: 3, hidden: [5], classes: 4, seed: 9 }).toJSON();
    const withParameter = (i: number, change: Record<string, unknown>): unknown => ({
      ...good,
      parameters: good.parameters.map((p, k) => (k === i ? { ...p, ...change } : p)),
    });
    const f32Base64 = (values: number[]): string =>
      Buffer.from(new Uint8Array(Float32Array.from(values).buffer)).toString("base64");
    const refuses = (json: unknown, type: typeof Error, message: string | RegExp): void => {
      let error: unknown = null;
      try {
        loadModel(json as ModelJSON);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(type);
      if (typeof message === "string") expect((error as Error).message).toContain(message);
      else expect((error as Error).message).toMatch(message);
    };
    const not = "not a klcore model: ";

    it("the envelope: JSON, an object, format, version, kind", () => {
      expect(loadModel(good).parameterCount).toBe(3 * 5 + 5 + 5 * 4 + 4); // the base case loads
      refuses("{ not json", TypeError, /^not a klcore model: the text is not JSON \(/);
      refuses("", TypeError, `${not}the text is not JSON`);
      refuses("null", TypeError, `${not}expected an object`);
      refuses(42, TypeError, `${not}expected an object`);
      refuses({ ...good, format: "onnx" }, TypeError, `${not}format is "onnx", not "klcore-model"`);
      refuses({ ...good, format: undefined }, TypeError, `${not}format is undefined, not "klcore-model"`);
      refuses({ ...good, version: 2 }, TypeError, `${not}version 2 is not supported (1 is)`);
      refuses({ ...good, version: "1" }, TypeError, `${not}version "1" is not supported`);
      refuses({ ...good, kind: "cnn" }, TypeError, `${not}unknown kind cnn`);
      refuses({ ...good, parameters: "AAAA" }, TypeError, `${not}parameters must be an array`);
    });

    it("the architecture", () => {
      refuses({ ...good, inputs: 0 }, TypeError, `${not}inputs must be a positive integer; got 0`);
      refuses({ ...good, classes: 2.5 }, TypeError, `${not}classes must be a positive integer; got 2.5`);
      refuses({ ...good, hidden: [5, -1] }, TypeError, `${not}hidden[1] must be a positive integer; got -1`);
      refuses({ ...good, hidden: "5" }, TypeError, `${not}hidden must be an array of layer widths`);
      refuses({ ...good, activation: "gelu" }, TypeError, `${not}activation must be 'relu' or 'tanh'`);
      // A declared architecture the parameters do not fit.
      refuses({ ...good, hidden: [6] }, TypeError, `${not}parameter dense0.weight must have shape [3, 6]`);
      refuses({ ...good, classes: 5 }, TypeError, `${not}parameter dense1.weight must have shape [5, 5]`);
      refuses({ ...good, hidden: [5, 5] }, TypeError, `${not}4 parameter arrays; this architecture has 6`);
    });

    it("the parameters: count, names, shapes, data", () => {
      refuses({ ...good, parameters: good.parameters.slice(0, 3) }, TypeError, `${not}3 parameter arrays`);
      refuses(
        { ...good, parameters: [...good.parameters, good.parameters[3]] },
        TypeError,
        /5 parameter arrays/,
      );
      refuses(withParameter(1, { name: "dense0.b" }), TypeError, `${not}parameters[1] must be dense0.bias`);
      refuses(
        { ...good, parameters: [null, ...good.parameters.slice(1)] },
        TypeError,
        "parameters[0] must be",
      );
      const shape = `${not}parameter dense0.weight must have shape [3, 5]`;
      refuses(withParameter(0, { shape: [5, 3] }), TypeError, shape);
      refuses(withParameter(0, { shape: [15] }), TypeError, shape);
      refuses(withParameter(0, { shape: undefined }), TypeError, shape);
      const data = good.parameters[0]!.data;
      const bytes = `${not}parameter dense0.weight holds`;
      refuses(
        withParameter(0, { data: data.slice(0, -4) }),
        TypeError,
        `${bytes} 57 bytes; its shape needs 60`,
      );
      refuses(
        withParameter(0, { data: data.slice(0, -1) }),
        TypeError,
        `${bytes} 59 bytes; its shape needs 60`,
      );
      refuses(withParameter(0, { data: data + "AAAA" }), TypeError, `${bytes} 63 bytes; its shape needs 60`);
      refuses(
        withParameter(0, { data: "!!!!" }),
        TypeError,
        `${not}parameter dense0.weight: data is not base64`,
      );
      refuses(withParameter(0, { data: 7 }), TypeError, `${not}parameter dense0.weight has no base64 data`);
      const finite = "every parameter must be finite";
      const nanBias = withParameter(1, { data: f32Base64([0, 0, NaN, 0, 0]) });
      refuses(nanBias, RangeError, `the model's dense0.bias[2] is NaN; ${finite}`);
      const infBias = withParameter(3, { data: f32Base64([0, -Infinity, 0, 0]) });
      refuses(infBias, RangeError, `the model's dense1.bias[1] is -Infinity; ${finite}`);
    });

    // loadModel promises "every field checked", but fields the kind does not use are ignored: an
    // MLP with hidden layers and activation null loads as relu, and a softmax regression or a
    // categorical model loads whatever hidden, activation (and, for categorical, inputs) it declares.
    it("an MLP with hidden layers and activation null is refused", () => {
      expect(() => loadModel({ ...good, activation: null })).toThrow(TypeError);
    });

    it("a softmax regression declaring hidden layers and an activation is refused", () => {
      const s = softmaxRegression({ inputs: 3, classes: 4 }).toJSON();
      expect(() => loadModel({ ...s, hidden: [5], activation: "tanh" })).toThrow(TypeError);
    });

    it("a categorical model declaring inputs is refused", () => {
      const c = categorical({ classes: 4 }).toJSON();
      expect(() => loadModel({ ...c, inputs: 3 })).toThrow(TypeError);
    });

    it("a refused load leaks nothing", () => {
      const k = createInstanceSync();
      const bad = withParameter(3, { data: f32Base64([0, NaN, 0, 0]) });
      for (let i = 0; i < 3; i++) expect(() => k.loadModel(bad as ModelJSON)).toThrow(RangeError);
      const flat = k.backend().memoryBytes;
      for (let i = 0; i < 300; i++) expect(() => k.loadModel(bad as ModelJSON)).toThrow(RangeError);
      expect(k.backend().memoryBytes).toBe(flat);
    });
  });
});

// ---- fields, parameters, dispose --------------------------------------------------------------

describe("fields and parameters()", () => {
  it("kind, inputs, hidden, classes, activation, parameterCount", () => {
    const cases: [Model, unknown[], number][] = [
      [categorical({ classes: 7 }), ["categorical", 0, [], 7, null], 7],
      [softmaxRegression({ inputs: 3, classes: 4 }), ["softmaxRegression", 3, [], 4, null], 16],
      [mlp({ inputs: 3, hidden: [5], classes: 4 }), ["mlp", 3, [5], 4, "relu"], 44],
      [mlp({ inputs: 2, hidden: [6, 3], classes: 2, activation: "tanh" }), ["mlp", 2, [6, 3], 2, "tanh"], 47],
      [mlp({ inputs: 2, hidden: [], classes: 3, activation: "tanh" }), ["mlp", 2, [], 3, null], 9],
    ];
    for (const [m, fields, count] of cases) {
      expect([m.kind, m.inputs, m.hidden, m.classes, m.activation]).toEqual(fields);
      expect(m.parameterCount).toBe(count);
      expect(m.parameters().reduce((s, p) => s + p.length, 0)).toBe(count);
      expect(m.gradients().map((g) => g.length)).toEqual(m.parameters().map((p) => p.length));
      expect(Object.isFrozen(m.hidden)).toBe(true);
      expect(m.disposed).toBe(false);
      m.dispose();
    }
  });

  it("hidden cannot be changed through the options or toJSON", () => {
    const widths = [5];
    const m = mlp({ inputs: 3, hidden: widths, classes: 4 });
    widths[0] = 9;
    m.toJSON().hidden.push(1);
    expect(m.hidden).toEqual([5]);
    m.dispose();
  });

  it("parameters() are live float32 views in wasm memory: writing them changes the model", () => {
    const m = softmaxRegression({ inputs: 2, classes: 3, seed: 1 });
    const [w, b] = m.parameters();
    expect(w!.dtype).toBe("float32");
    expect([w!.length, b!.length]).toEqual([6, 3]);
    expect(m.parameters()[0]).toBe(w); // the same arrays every call
    expect(Array.from(b!.array)).toEqual([0, 0, 0]); // biases start at 0
    w!.array.fill(0);
    b!.array.set([0, Math.log(2), Math.log(5)]);
    const p = m.predict([[3, -1]]);
    [1 / 8, 2 / 8, 5 / 8].forEach((v, j) => expect(p[j]).toBeCloseTo(v, 6));
    w!.array.set([1, 0, 0, 0, 0, 0]);
    const q = m.predict([[Math.log(3), 0]]);
    [3 / 10, 2 / 10, 5 / 10].forEach((v, j) => expect(q[j]).toBeCloseTo(v, 6));
    m.dispose();
  });
});

describe("dispose", () => {
  it("frees every array; any further use throws; disposing twice is fine", async () => {
    const m = mlp({ inputs: 3, hidden: [4], classes: 2 });
    const arrays = [...m.parameters(), ...m.gradients()];
    m.dispose();
    expect(m.disposed).toBe(true);
    expect(arrays.every((a) => a.freed)).toBe(true);
    m.dispose();
    expect(m.disposed).toBe(true);
    const x = new Float32Array(6);
    for (const use of [
      () => m.predict(x),
      () => m.evaluate(x, [0, 1]),
      () => m.toJSON(),
      () => m.parameters(),
      () => m.gradients(),
      () => JSON.stringify(m),
    ]) {
      expect(use).toThrow(Error);
      expect(use).toThrow("this model was disposed");
    }
    await expect(fit(m, { x, y: [0, 1] })).rejects.toThrow("this model was disposed");
    // What describes the model stays readable.
    expect([m.kind, m.inputs, m.hidden, m.classes, m.parameterCount]).toEqual(["mlp", 3, [4], 2, 26]);
  });

  it("memory stays flat across create, predict, save, load and dispose cycles", () => {
    const k = createInstanceSync();
    const x = uniform(64 * 8, 40);
    const cycle = (i: number): void => {
      const m = k.mlp({ inputs: 8, hidden: [32], classes: 5, seed: i });
      m.predict(x);
      const copy = k.loadModel(m.toJSON());
      copy.evaluate(x, new Int32Array(64));
      m.dispose();
      copy.dispose();
    };
    for (let i = 0; i < 3; i++) cycle(i);
    const flat = k.backend().memoryBytes;
    for (let i = 0; i < 200; i++) cycle(i);
    expect(k.backend().memoryBytes).toBe(flat);
  });
});
