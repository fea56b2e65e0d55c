// The module's export list. Memory is managed explicitly by the TypeScript side: it allocates
// scratch and zero-copy buffers here and frees them; no managed (GC) objects cross the boundary.

export {
  divergence_f32,
  divergence_f64,
  rowsums_f32,
  rowsums_f64,
  finish,
  normalizing_scales,
  check_rows,
  rel_entr_f32,
  rel_entr_f64,
} from "./divergence";

// Softmax, log-softmax and logsumexp; cross-entropy and KL on logits, with probability targets and
// with class indices.
export { logsumexp_f32, logsumexp_f64, softmax_f32, softmax_f64 } from "./softmax";
export { xent_probs_f32, xent_probs_f64 } from "./xentprobs";
export { xent_index_f32, xent_index_f64 } from "./xentindex";

// MSE, L1 and Jensen-Shannon between probability targets and softmax(logits), with gradients.
export { probloss_f32, probloss_f64 } from "./probloss";

export { bounded_f32, finite_f32, sum_f64 } from "./reduce";
// fit and evaluate: accuracy counts (argmax against the targets), the guard's checked copy.
export { correct_index_f32, correct_probs_f32, copy_finite_f32 } from "./reduce";
// fit in workers: the shard gradients' sum.
export { add_f32 } from "./reduce";

// Elementwise losses: binary cross-entropy on logits, KL between diagonal Gaussians.
export { bce_logits_f32, bce_logits_f64 } from "./logistic";
export { gaussian_kl_f32, gaussian_kl_f64 } from "./gaussian";
export { row_totals } from "./rows";

// Dense layers (y = x W + b and its gradients) and their activations, float32.
export {
  dense_forward_f32,
  dense_backward_f32,
  dense_backward_dx_f32,
  dense_backward_dw_f32,
  relu_f32,
  relu_backward_f32,
  tanh_f32,
  tanh_backward_f32,
} from "./linear";

// Optimiser update rules and gradient clipping on float32 parameters.
export { sgd_f32, adam_f32, rmsprop_f32, adagrad_f32, sumsq_f32, scale_f32 } from "./optim";

// 16-byte aligned block of `size` bytes (TLSF). Traps when memory cannot grow: the caller turns
// the trap into a RangeError; the allocator's state is unchanged at that point.
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function dealloc(ptr: usize): void {
  heap.free(ptr);
}

export function zero(ptr: usize, size: usize): void {
  memory.fill(ptr, 0, size);
}

// Float64 optimiser rules, and variational inference: draws, transform, gradient and update, the
// diagnostics' log-weights, and the built-in targets.
export { sgd_f64, adam_f64, rmsprop_f64, adagrad_f64, optim_f64 } from "./optim";
export {
  normals,
  vi_draw,
  vi_entropy,
  vi_logw,
  vi_logq,
  vi_init_scale,
  vi_moments,
  vi_start,
  vi_update,
  vi_run,
  vi_summary,
} from "./vi";
export { psis_smooth } from "./psis";
export { vit_eval, vit_gaussian_setup } from "./vitargets";
// Variational inference's context fields, statuses and families, and the built-in targets' kinds.
export {
  C_D,
  C_FAMILY,
  C_S,
  C_STL,
  C_P,
  C_THETA,
  C_GRAD,
  C_EPS,
  C_Z,
  C_GZ,
  C_LP,
  C_OPT,
  C_HYPER,
  C_STATE,
  C_BACKUP,
  C_TARGET,
  C_TDATA,
  C_TN,
  C_WORK,
  C_SEED,
  C_STATUS,
  C_BAD_DRAW,
  C_BAD_COORD,
  C_COUNTER,
  C_ELBO,
  C_BYTES,
  ST_OK,
  ST_NAN,
  ST_POS_INF,
  ST_NEG_INF,
  ST_GRAD,
  ST_PARAMS,
  MEANFIELD,
  FULLRANK,
} from "./vi";
export { T_GAUSSIAN, T_LOGISTIC, T_HIERARCHICAL } from "./vitargets";

// The interface's constants, exported as immutable globals: scripts/build.mjs generates
// src/wasm/abi.ts (these values and every export's signature) from them.
export {
  STATS_TERMS,
  STATS_SUM_P,
  STATS_SUM_Q,
  STATS_FLAGS,
  STATS_DIFF,
  STATS_DIFF_LO,
  STATS_SPECIAL,
  STATS_SPECIAL_GEN,
  STATS_SIZE,
  LOG_P,
  LOG_Q,
  FN_KL,
  FN_XENT,
  FN_ENTROPY,
  FN_JS,
  FN_JS_DISTANCE,
  OPT_GENERALIZED,
  OPT_NORMALIZE,
  SUMS_UNCHECKED,
  SUMS_ONE,
  SUMS_POSITIVE,
} from "./divergence";
export { XENT_WANT_GRAD, XENT_KL, XENT_LOG_TARGET } from "./xent";
export { PROBLOSS_MSE, PROBLOSS_L1, PROBLOSS_JS, PROBLOSS_WANT_GRAD } from "./probloss";
export { LOSS_TOTAL, LOSS_FLAGS, LOSS_SIZE } from "./rows";
export { SGD_NESTEROV, SGD_FIRST, OPT_SGD, OPT_ADAM, OPT_RMSPROP, OPT_ADAGRAD } from "./optim";

// size bytes from src to dst (which must not overlap): fit's copies of the parameters in wasm memory
// (the divergence guard's, the best epoch's) put back.
export function copy(dst: usize, src: usize, size: usize): void {
  memory.copy(dst, src, size);
}
