// What the two cross-entropy kernel families share (xentprobs.ts: probability targets, for
// crossEntropyWithLogits and klWithLogits; xentindex.ts: class indices, for crossEntropyWithLogits):
// the loss's form, the flags, the per-row stash and the batched logarithms that finish the losses.
//
// A loss is written -sum_c a_c logp_c for a coefficient vector a (targets, weights and label
// smoothing folded together), so with A = sum a and D = sum a_c (z_c - max) / T:
//   loss = A ln S - D,   d loss / d z_c = (A e_c / S - a_c) / T.
// a_c = 0 terms are masked, so a -inf logit with no target mass gives 0, never NaN.
// Kernels return the first row whose logits are NaN, +inf or all -inf (or whose soft target is
// negative or NaN), or -1; src/softmax.ts turns that into an error naming the element.

import { log2d } from "./math/log";
import { log1p2d } from "./math/log1p";
import { RESUM_BELOW } from "./softmax";

// Flags of the cross-entropy kernels (exported: src/wasm/abi.ts is generated from the module's
// exports).
export const XENT_WANT_GRAD: i32 = 1;
export const XENT_KL: i32 = 2; // add sum a ln t' (KL rather than cross-entropy)
export const XENT_LOG_TARGET: i32 = 4; // the target holds ln t

// A row's loss is A ln S - D. Rather than one scalar (software, float64) logarithm per row, each row
// stashes S - 1 in its loss slot and A, D in `work`; finishLosses then takes all the logarithms,
// ln S = log1p(S - 1), two rows per vector. A row with A = 0 gives -D (0, or a KL target term); a refused row has A = NaN.
// @ts-ignore: decorator
@inline export function stash(loss: usize, work: usize, r: i32, sm1: f64, a: f64, d: f64): void {
  store<f64>(loss + (<usize>r << 3), sm1);
  store<f64>(work + (<usize>r << 4), a);
  store<f64>(work + (<usize>r << 4), d, 8);
}

export function finishLosses(loss: usize, work: usize, rows: i32): void {
  let r = 0;
  if (ASC_FEATURE_SIMD) {
    for (; r + 2 <= rows; r += 2) {
      const at = loss + (<usize>r << 3);
      const w0 = v128.load(work + (<usize>r << 4)), w1 = v128.load(work + (<usize>r << 4), 16);
      // (A0, D0), (A1, D1) -> (A0, A1), (D0, D1)
      const a = i64x2.shuffle(w0, w1, 0, 2);
      const d = i64x2.shuffle(w0, w1, 1, 3);
      // ln S = log1p(S - 1), needed only where S - 1 is small; elsewhere the cheaper log of 1 + x
      // (rounding 1 + x costs at most 2^-53 / RESUM_BELOW, relative).
      const sm1 = v128.load(at);
      const ln = v128.any_true(f64x2.lt(sm1, f64x2.splat(RESUM_BELOW)))
        ? log1p2d(sm1)
        : log2d(f64x2.add(sm1, f64x2.splat(1)));
      v128.store(at, f64x2.sub(f64x2.mul(a, ln), d));
    }
  }
  for (; r < rows; r++) {
    const at = loss + (<usize>r << 3);
    const a = load<f64>(work + (<usize>r << 4));
    store<f64>(at, a * Math.log1p(load<f64>(at)) - load<f64>(work + (<usize>r << 4), 8));
  }
}

// The gradient at a class whose exponential is exactly 1 (the row's max): scale (A / S - a), A the
// row's coefficient sum, a the class's, rest = A - a. Formed as scale (rest - a (S - 1)) / S: in a
// confident row (S - 1 ~ 1e-6) A / S and a cancel to about a (S - 1), of which their float32
// difference would keep a few percent.
// @ts-ignore: decorator
@inline export function gradAtMax(rest: f64, a: f64, sm1: f64, scale: f64): f64 {
  return (scale * (rest - a * sm1)) / (1 + sm1);
}

// A refused row's results: NaN loss and outputs, so a caller that skips validation sees NaN.
// @ts-ignore: decorator
@inline export function poisonF32(loss: usize, work: usize, r: i32, e: usize, n: i32): void {
  if (loss) stash(loss, work, r, NaN, NaN, 0);
  if (e) for (let i = 0; i < n; i++) store<f32>(e + (<usize>i << 2), NaN);
}

// @ts-ignore: decorator
@inline export function poisonF64(loss: usize, work: usize, r: i32, e: usize, n: i32): void {
  if (loss) stash(loss, work, r, NaN, NaN, 0);
  if (e) for (let i = 0; i < n; i++) store<f64>(e + (<usize>i << 3), NaN);
}
