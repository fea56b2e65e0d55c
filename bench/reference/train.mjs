// Training in plain JavaScript, the baseline of bench/suites/train.mjs: dense layers with ReLU (softmax
// regression when there is no hidden layer), softmax cross-entropy (mean over the batch), Adam with
// PyTorch's defaults, and one epoch of minibatches. Written as a competent JavaScript developer
// would: Float32Array storage, preallocated buffers, the cache-friendly i-k-j order for x W (and for
// dW = x^T dy, accumulated one batch row at a time), contiguous dot products for dx = dy W^T, a
// stable softmax. Also the benchmark's synthetic data and its seeded shuffle, shared with the klcore
// contender so that both see the same batches.

import { mulberry32 } from "../harness.mjs";

/**
 * `samples` rows of `inputs` features uniform in [0, 1) (float32), labelled by the argmax of a random
 * linear teacher on the centred features, (x - 1/2) T with T uniform in [-1, 1): learnable, and the
 * classes about equally frequent. Returns { x, y } (Float32Array samples x inputs, Int32Array).
 */
export function teacherData({ samples, inputs, classes, seed }) {
  const random = mulberry32(seed);
  const x = new Float32Array(samples * inputs);
  for (let i = 0; i < x.length; i++) x[i] = random();
  const teacher = new Float64Array(inputs * classes);
  for (let i = 0; i < teacher.length; i++) teacher[i] = 2 * random() - 1;
  const y = new Int32Array(samples);
  const z = new Float64Array(classes);
  for (let r = 0; r < samples; r++) {
    z.fill(0);
    for (let p = 0; p < inputs; p++) {
      const s = x[r * inputs + p] - 0.5;
      for (let j = 0; j < classes; j++) z[j] += s * teacher[p * classes + j];
    }
    let best = 0;
    for (let j = 1; j < classes; j++) if (z[j] > z[best]) best = j;
    y[r] = best;
  }
  return { x, y };
}

/** The order of one epoch's samples: a Fisher-Yates shuffle of 0 .. n-1 driven by mulberry32(seed). */
export function epochOrder(n, seed) {
  const random = mulberry32(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * A stack of dense layers, ReLU between them, logits out: sizes [inputs, ...hidden, classes].
 * Weights start as klcore's models start theirs (one mulberry32(seed) stream over the layers in
 * order; He-uniform for the hidden layers, Glorot-uniform for the output layer; biases 0).
 */
export class JsMlp {
  constructor({ inputs, hidden = [], classes, seed = 0 }) {
    const sizes = [inputs, ...hidden, classes];
    const random = mulberry32(seed);
    this.inputs = inputs;
    this.classes = classes;
    this.layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const n = sizes[l],
        m = sizes[l + 1];
      const limit = Math.sqrt(6 / (l + 2 < sizes.length ? n : n + m));
      const w = new Float32Array(n * m);
      for (let i = 0; i < w.length; i++) w[i] = limit * (2 * random() - 1);
      const b = new Float32Array(m),
        dw = new Float32Array(n * m),
        db = new Float32Array(m);
      this.layers.push({ inputs: n, outputs: m, w, b, dw, db });
    }
    // Per layer its output (activated in place for hidden layers) and the gradient there.
    this.capacity = 0;
    this.out = [];
    this.dOut = [];
    this.lastX = null;
  }

  /** W, b per layer, in klcore's order. */
  parameters() {
    return this.layers.flatMap((l) => [l.w, l.b]);
  }

  gradients() {
    return this.layers.flatMap((l) => [l.dw, l.db]);
  }

  reserve(rows) {
    if (rows <= this.capacity) return;
    this.out = this.layers.map((l) => new Float32Array(rows * l.outputs));
    this.dOut = this.layers.map((l) => new Float32Array(rows * l.outputs));
    this.capacity = rows;
  }

  /** The logits of the first `rows` rows of x (rows x inputs), a view of the model's buffer. */
  forward(x, rows) {
    this.reserve(rows);
    this.lastX = x;
    const last = this.layers.length - 1;
    let a = x;
    for (let l = 0; l <= last; l++) {
      const { inputs: n, outputs: m, w, b } = this.layers[l];
      const y = this.out[l];
      for (let r = 0; r < rows; r++) {
        const yo = r * m,
          xo = r * n;
        for (let j = 0; j < m; j++) y[yo + j] = b[j];
        for (let p = 0; p < n; p++) {
          const s = a[xo + p];
          const wo = p * m;
          for (let j = 0; j < m; j++) y[yo + j] += s * w[wo + j];
        }
      }
      if (l < last) {
        for (let i = 0, end = rows * m; i < end; i++) if (y[i] < 0) y[i] = 0;
      }
      a = y;
    }
    return this.out[last].subarray(0, rows * this.classes);
  }

  /** The gradients of every parameter from dLogits (rows x classes) and the last forward. */
  backward(dLogits, rows) {
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const { inputs: n, outputs: m, w, dw, db } = this.layers[l];
      const x = l === 0 ? this.lastX : this.out[l - 1];
      const dy = l === this.layers.length - 1 ? dLogits : this.dOut[l];
      dw.fill(0);
      db.fill(0);
      for (let r = 0; r < rows; r++) {
        const yo = r * m,
          xo = r * n;
        for (let j = 0; j < m; j++) db[j] += dy[yo + j];
        for (let p = 0; p < n; p++) {
          const s = x[xo + p];
          const wo = p * m;
          for (let j = 0; j < m; j++) dw[wo + j] += s * dy[yo + j];
        }
      }
      if (l === 0) break;
      // dx = dy W^T, then through the ReLU (x is the layer's activated input).
      const dx = this.dOut[l - 1];
      for (let r = 0; r < rows; r++) {
        const yo = r * m,
          xo = r * n;
        for (let p = 0; p < n; p++) {
          if (x[xo + p] > 0) {
            const wo = p * m;
            let s = 0;
            for (let j = 0; j < m; j++) s += dy[yo + j] * w[wo + j];
            dx[xo + p] = s;
          } else {
            dx[xo + p] = 0;
          }
        }
      }
    }
  }
}

/**
 * Softmax cross-entropy of class indices, mean over `rows` rows, with its gradient written to
 * grad (rows x classes): a max pass, an exp pass storing the exponentials, then the scale.
 */
export function softmaxCrossEntropy(logits, labels, rows, classes, grad) {
  let total = 0;
  const inv = 1 / rows;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      const e = Math.exp(logits[o + j] - max);
      grad[o + j] = e;
      sum += e;
    }
    const y = labels[r];
    total += max + Math.log(sum) - logits[o + y];
    const k = inv / sum;
    for (let j = 0; j < classes; j++) grad[o + j] *= k;
    grad[o + y] -= inv;
  }
  return total * inv;
}

/** Adam as torch.optim.Adam computes it (no weight decay), state in Float32Arrays. */
export class JsAdam {
  constructor({ learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = {}) {
    Object.assign(this, { learningRate, beta1, beta2, epsilon });
    this.t = 0;
    this.m = null;
    this.v = null;
  }

  step(params, grads) {
    if (!this.m) {
      this.m = params.map((p) => new Float32Array(p.length));
      this.v = params.map((p) => new Float32Array(p.length));
    }
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    this.t++;
    const size = this.learningRate / (1 - b1 ** this.t);
    const bc2 = Math.sqrt(1 - b2 ** this.t);
    for (let k = 0; k < params.length; k++) {
      const p = params[k],
        g = grads[k],
        m = this.m[k],
        v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
        p[i] -= (size * mi) / (Math.sqrt(vi) / bc2 + eps);
      }
    }
  }
}

/**
 * A trainer for one model: its batch buffers, and one epoch of minibatches in the order of
 * epochOrder(samples, seed), each batch's rows copied into a preallocated buffer. epoch() returns the
 * sum of the batch losses.
 */
export function jsTrainer(model, optimizer, { x, y }, { batchSize, seed }) {
  const n = model.inputs,
    c = model.classes;
  const samples = y.length;
  const xb = new Float32Array(batchSize * n);
  const yb = new Int32Array(batchSize);
  const grad = new Float32Array(batchSize * c);
  const params = model.parameters(),
    grads = model.gradients();
  return function epoch() {
    const order = epochOrder(samples, seed);
    let total = 0;
    for (let start = 0; start < samples; start += batchSize) {
      const rows = Math.min(batchSize, samples - start);
      for (let r = 0; r < rows; r++) {
        const i = order[start + r];
        xb.set(x.subarray(i * n, i * n + n), r * n);
        yb[r] = y[i];
      }
      const logits = model.forward(xb, rows);
      total += softmaxCrossEntropy(logits, yb, rows, c, grad);
      model.backward(grad, rows);
      optimizer.step(params, grads);
    }
    return total;
  };
}
