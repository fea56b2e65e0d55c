// Variational inference with Gaussian families, in float64: the seeded normal draws, the transform
// z = mu + L eps, the reparameterised gradient of the negative ELBO with respect to (mu, L), the
// optimiser step and the importance log-weights of the diagnostics. src/vi.ts drives the loop; the
// formulas and their sources are in docs/variational-inference.md.
//
// Parameters theta (float64): mu (d values), then the scale.
//   mean-field  w (d values), L = diag(exp(w))
//   full-rank   L's lower triangle row by row (row i: L[i][0..i], at d + i (i + 1) / 2), with the
//               diagonal stored as its log, so L's diagonal stays positive
// The draws eps, z and the target's gradients are draw-major (draw k at k * d).
//
// These loops are scalar in both builds: their sums (over draws and over a row of L) then run in
// one fixed order, so the SIMD and scalar builds give the same bits. d is a model's dimension
// (tens to hundreds); the target's log density dominates a step's cost.

import { log1d, log2d } from "./math/log";
import { cos1dk, cos2dk, sin1dk, sin2dk } from "./math/sincos";
import { optim_f64 } from "./optim";
import { vit_eval } from "./vitargets";

// ln(2 pi) = 1.8378770664093453 (correctly rounded; see: mpmath log(2*pi), 30 digits)
const LN_2PI: f64 = 1.8378770664093453;
// 2 pi = 6.283185307179586 (correctly rounded)
const TWO_PI: f64 = 6.283185307179586;

export const MEANFIELD: i32 = 0;
export const FULLRANK: i32 = 1;

// ---------------------------------------------------------------------------------------------
// Seeded normal draws, the same bits in every engine and in both builds: SplitMix64 (Steele, Lea
// and Flood 2014, "Fast splittable pseudorandom number generators") hashes a counter into 64
// random bits, and the Box-Muller transform turns two uniform numbers into two normal ones,
// r cos(2 pi u2) and r sin(2 pi u2) with r = sqrt(-2 ln u1), with this module's own log
// (assembly/math/log.ts) and sine and cosine (assembly/math/sincos.ts). Draws 2p and 2p + 1 of a
// stream are the pair p, made from the counters 2p and 2p + 1, so any draw can be made alone. The
// SIMD build makes two pairs per step in f64x2 and i64x2 lanes, the scalar build one: the same
// operations on each value, so the same bits.

// SplitMix64's finaliser (Stafford's Mix13) and its increment, the golden-ratio gamma
// 0x9E3779B97F4A7C15 = 11400714819323198485. see: Steele, Lea and Flood 2014, section 3 (the
// constants of java.util.SplittableRandom)
const MIX1: u64 = 0xBF58476D1CE4E5B9;
const MIX2: u64 = 0x94D049BB133111EB;
const GAMMA: u64 = 0x9E3779B97F4A7C15;
// 1.5 * 2^52: adding it to 4 u (0 < u <= 1) rounds to an integer, left in the low bits.
const SHIFTER: f64 = 6755399441055744;
const ONE_BITS: u64 = 0x3FF0000000000000;

// @ts-ignore: decorator
@inline function mix64(x: u64): u64 {
  x = (x ^ (x >> 30)) * MIX1;
  x = (x ^ (x >> 27)) * MIX2;
  return x ^ (x >> 31);
}

// @ts-ignore: decorator
@inline function mix64x2(x: v128): v128 {
  x = i64x2.mul(v128.xor(x, i64x2.shr_u(x, 30)), i64x2.splat(MIX1));
  x = i64x2.mul(v128.xor(x, i64x2.shr_u(x, 27)), i64x2.splat(MIX2));
  return v128.xor(x, i64x2.shr_u(x, 31));
}

// The key of stream `stream` of seed `seed`.
// @ts-ignore: decorator
@inline function keyOf(seed: u32, stream: u32): u64 {
  return mix64((<u64>stream << 32) | <u64>seed);
}

// The uniform number of hash h, in (0, 1]: 2 - x with x in [1, 2) holding the top 52 bits of h as
// its significand (exact, never 0, so the logarithm below is finite).
// @ts-ignore: decorator
@inline function uniformOf(h: u64): f64 {
  return 2 - reinterpret<f64>((h >> 12) | ONE_BITS);
}

// @ts-ignore: decorator
@inline function uniformOf2(h: v128): v128 {
  return f64x2.sub(f64x2.splat(2), v128.or(i64x2.shr_u(h, 12), i64x2.splat(ONE_BITS)));
}

// The pair p of stream key into out[0], out[1]. The angle 2 pi u2 is q quarter turns plus
// x = 2 pi (u2 - q / 4), |x| <= pi / 4, with q = round(4 u2): both steps exact (u2 is a multiple
// of 2^-52), then (cos, sin) of the angle are (cos x, sin x) turned q times by (c, s) -> (-s, c).
// @ts-ignore: decorator
@inline function pair1(key: u64, p: u64, out: usize): void {
  const u1 = uniformOf(mix64(key + ((p << 1) + 1) * GAMMA));
  const u2 = uniformOf(mix64(key + ((p << 1) + 2) * GAMMA));
  const r = Math.sqrt(-2 * log1d(u1));
  const t = u2 * 4 + SHIFTER;
  const x = TWO_PI * (u2 - (t - SHIFTER) * 0.25);
  const q = reinterpret<u64>(t);
  const c = cos1dk(x), s = sin1dk(x);
  const odd = q & 1;
  let cv = reinterpret<u64>(odd ? s : c), sv = reinterpret<u64>(odd ? c : s);
  cv ^= ((q + 1) & 2) << 62; // q = 1, 2: cos < 0
  sv ^= (q & 2) << 62; // q = 2, 3: sin < 0
  store<f64>(out, r * reinterpret<f64>(cv));
  store<f64>(out, r * reinterpret<f64>(sv), 8);
}

// The pairs p and p + 1 into out[0..3], pair1's operations in two lanes.
// @ts-ignore: decorator
@inline function pair2(key: u64, p: u64, out: usize): void {
  const base = i64x2.add(i64x2.splat(key), i64x2.mul(i64x2.replace_lane(i64x2.splat((p << 1) + 1), 1, (p << 1) + 3), i64x2.splat(GAMMA)));
  const u1 = uniformOf2(mix64x2(base));
  const u2 = uniformOf2(mix64x2(i64x2.add(base, i64x2.splat(GAMMA))));
  const r = f64x2.sqrt(f64x2.mul(f64x2.splat(-2), log2d(u1)));
  const shifter = f64x2.splat(SHIFTER);
  const t = f64x2.add(f64x2.mul(u2, f64x2.splat(4)), shifter);
  const x = f64x2.mul(f64x2.splat(TWO_PI), f64x2.sub(u2, f64x2.mul(f64x2.sub(t, shifter), f64x2.splat(0.25))));
  const c = cos2dk(x), s = sin2dk(x);
  const one = i64x2.splat(1), two = i64x2.splat(2);
  const odd = i64x2.neg(v128.and(t, one));
  let cv = v128.bitselect(s, c, odd), sv = v128.bitselect(c, s, odd);
  cv = v128.xor(cv, i64x2.shl(v128.and(i64x2.add(t, one), two), 62));
  sv = v128.xor(sv, i64x2.shl(v128.and(t, two), 62));
  const nc = f64x2.mul(r, cv), ns = f64x2.mul(r, sv);
  v128.store(out, v128.shuffle<f64>(nc, ns, 0, 2));
  v128.store(out, v128.shuffle<f64>(nc, ns, 1, 3), 16);
}

// A pair's two draws for the ends of an odd-aligned range.
// @ts-ignore: decorator
@lazy const EDGE = memory.data(16, 16);

// n standard normal draws into out, the draws counter .. counter + n - 1 of the stream.
export function normals(seed: u32, stream: u32, counter: f64, n: i32, out: usize): void {
  if (n <= 0) return;
  const key = keyOf(seed, stream);
  let c = <u64>counter;
  const end = c + <u64>n;
  if (c & 1) {
    pair1(key, c >> 1, EDGE);
    store<f64>(out, load<f64>(EDGE, 8));
    out += 8;
    c++;
  }
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= end; c += 4, out += 32) pair2(key, c >> 1, out);
  }
  for (; c + 2 <= end; c += 2, out += 16) pair1(key, c >> 1, out);
  if (c < end) {
    pair1(key, c >> 1, EDGE);
    store<f64>(out, load<f64>(EDGE));
  }
}

// ---------------------------------------------------------------------------------------------
// The family: transform, entropy, log density

// @ts-ignore: decorator
@inline function rowAt(theta: usize, d: i32, i: i32): usize {
  return theta + (<usize>(d + ((i * (i + 1)) >> 1)) << 3);
}

// z = mu + L e for one draw; diag holds L's diagonal (exp of its stored logs) and may be z itself.
function transform(family: i32, d: i32, theta: usize, diag: usize, e: usize, z: usize): void {
  if (family == MEANFIELD) {
    for (let i = 0; i < d; i++) {
      const o = <usize>i << 3;
      store<f64>(z + o, load<f64>(theta + o) + load<f64>(diag + o) * load<f64>(e + o));
    }
    return;
  }
  for (let i = 0; i < d; i++) {
    const row = rowAt(theta, d, i);
    let acc = load<f64>(theta + (<usize>i << 3));
    for (let j = 0; j < i; j++) acc += load<f64>(row + (<usize>j << 3)) * load<f64>(e + (<usize>j << 3));
    acc += load<f64>(diag + (<usize>i << 3)) * load<f64>(e + (<usize>i << 3));
    store<f64>(z + (<usize>i << 3), acc);
  }
}

// L's diagonal, exp of the stored logs, into out (d values).
function diagonalOf(family: i32, d: i32, theta: usize, out: usize): void {
  for (let i = 0; i < d; i++) {
    const at = family == MEANFIELD ? theta + (<usize>(d + i) << 3) : rowAt(theta, d, i) + (<usize>i << 3);
    store<f64>(out + (<usize>i << 3), Math.exp(load<f64>(at)));
  }
}

// sum_i ln L_ii: the log-diagonal's sum.
function logDiagSum(family: i32, d: i32, theta: usize): f64 {
  let s: f64 = 0;
  if (family == MEANFIELD) {
    const w = theta + (<usize>d << 3);
    for (let i = 0; i < d; i++) s += load<f64>(w + (<usize>i << 3));
  } else {
    for (let i = 0; i < d; i++) s += load<f64>(rowAt(theta, d, i) + (<usize>i << 3));
  }
  return s;
}

// The entropy of N(mu, L L^T): (d / 2)(1 + ln 2 pi) + sum_i ln L_ii.
export function vi_entropy(family: i32, d: i32, theta: usize): f64 {
  return 0.5 * <f64>d * (1 + LN_2PI) + logDiagSum(family, d, theta);
}

// ln q(z) of a draw z = mu + L e, from e: -(d / 2) ln 2 pi - sum_i ln L_ii - |e|^2 / 2.
// @ts-ignore: decorator
@inline function logqOf(d: i32, logDiag: f64, e: usize): f64 {
  let ss: f64 = 0;
  for (let i = 0; i < d; i++) {
    const v = load<f64>(e + (<usize>i << 3));
    ss += v * v;
  }
  return -0.5 * <f64>d * LN_2PI - logDiag - 0.5 * ss;
}

// n draws of q from the stream (seed, stream) starting at draw `counter` (each draw is d normals):
// e the standard normals, z = mu + L e.
export function vi_draw(
  family: i32, d: i32, theta: usize, seed: u32, stream: u32, counter: f64, n: i32, e: usize, z: usize,
): void {
  if (n <= 0) return;
  normals(seed, stream, counter * <f64>d, n * d, e);
  const stride = <usize>d << 3;
  // The diagonal's exps once per call, kept in the last draw's z until that draw, made in place.
  const last = z + <usize>(n - 1) * stride;
  diagonalOf(family, d, theta, last);
  for (let k = 0; k < n; k++) transform(family, d, theta, last, e + <usize>k * stride, z + <usize>k * stride);
}

// Importance log-weights out[k] = lp[k] - ln q(z_k) of n draws made from e.
export function vi_logw(family: i32, d: i32, theta: usize, e: usize, lp: usize, n: i32, out: usize): void {
  const logDiag = logDiagSum(family, d, theta);
  const stride = <usize>d << 3;
  for (let k = 0; k < n; k++) {
    const o = <usize>k << 3;
    store<f64>(out + o, load<f64>(lp + o) - logqOf(d, logDiag, e + <usize>k * stride));
  }
}

// ln q(z) at n given points z into out; work holds d values.
export function vi_logq(family: i32, d: i32, theta: usize, z: usize, n: i32, work: usize, out: usize): void {
  const logDiag = logDiagSum(family, d, theta);
  const stride = <usize>d << 3;
  for (let k = 0; k < n; k++) {
    const zk = z + <usize>k * stride;
    // e = L^-1 (z - mu) by forward substitution.
    if (family == MEANFIELD) {
      const w = theta + (<usize>d << 3);
      for (let i = 0; i < d; i++) {
        const o = <usize>i << 3;
        store<f64>(work + o, (load<f64>(zk + o) - load<f64>(theta + o)) / Math.exp(load<f64>(w + o)));
      }
    } else {
      for (let i = 0; i < d; i++) {
        const row = rowAt(theta, d, i);
        let r = load<f64>(zk + (<usize>i << 3)) - load<f64>(theta + (<usize>i << 3));
        for (let j = 0; j < i; j++) r -= load<f64>(row + (<usize>j << 3)) * load<f64>(work + (<usize>j << 3));
        store<f64>(work + (<usize>i << 3), r / Math.exp(load<f64>(row + (<usize>i << 3))));
      }
    }
    store<f64>(out + (<usize>k << 3), logqOf(d, logDiag, work));
  }
}

// The scale parameters for L = scale I (mu is the caller's): ln(scale) on the diagonal, 0 elsewhere.
export function vi_init_scale(family: i32, d: i32, theta: usize, scale: f64): void {
  const w = Math.log(scale);
  if (family == MEANFIELD) {
    for (let i = 0; i < d; i++) store<f64>(theta + (<usize>(d + i) << 3), w);
    return;
  }
  for (let i = 0; i < d; i++) {
    const row = rowAt(theta, d, i);
    for (let j = 0; j < i; j++) store<f64>(row + (<usize>j << 3), 0);
    store<f64>(row + (<usize>i << 3), w);
  }
}

// q's covariance L L^T (d x d, row-major) into cov and its standard deviations into sd.
export function vi_moments(family: i32, d: i32, theta: usize, sd: usize, cov: usize): void {
  memory.fill(cov, 0, <usize>d * <usize>d << 3);
  if (family == MEANFIELD) {
    const w = theta + (<usize>d << 3);
    for (let i = 0; i < d; i++) {
      const s = Math.exp(load<f64>(w + (<usize>i << 3)));
      store<f64>(sd + (<usize>i << 3), s);
      store<f64>(cov + (<usize>(i * d + i) << 3), s * s);
    }
    return;
  }
  for (let i = 0; i < d; i++) {
    const ri = rowAt(theta, d, i);
    for (let j = 0; j <= i; j++) {
      const rj = rowAt(theta, d, j);
      // (L L^T)_ij = sum_{k <= j} L_ik L_jk, the diagonal entries exp'ed.
      let acc: f64 = 0;
      for (let k = 0; k <= j; k++) {
        const a = k == i ? Math.exp(load<f64>(ri + (<usize>k << 3))) : load<f64>(ri + (<usize>k << 3));
        const b = k == j ? Math.exp(load<f64>(rj + (<usize>k << 3))) : load<f64>(rj + (<usize>k << 3));
        acc += a * b;
      }
      store<f64>(cov + (<usize>(i * d + j) << 3), acc);
      store<f64>(cov + (<usize>(j * d + i) << 3), acc);
    }
    store<f64>(sd + (<usize>i << 3), Math.sqrt(load<f64>(cov + (<usize>(i * d + i) << 3))));
  }
}

// ---------------------------------------------------------------------------------------------
// The loop: one step's gradient and update, and whole runs for the built-in targets.

// The run's context, a block of C_BYTES written by src/vi.ts (i32 fields, then float64 ones).
export const C_D = 0; // dimension d
export const C_FAMILY = 4; // MEANFIELD or FULLRANK
export const C_S = 8; // draws per step
export const C_STL = 12; // 1: "sticking the landing" gradient
export const C_P = 16; // number of parameters
export const C_THETA = 20; // parameters (P)
export const C_GRAD = 24; // gradient of the negative ELBO (P)
export const C_EPS = 28; // the step's standard normals (S d)
export const C_Z = 32; // the step's draws (S d)
export const C_GZ = 36; // the target's gradients at the draws (S d)
export const C_LP = 40; // the target's log densities at the draws (S)
export const C_OPT = 44; // optimiser rule (OPT_* of assembly/optim.ts)
export const C_HYPER = 48; // its hyperparameters
export const C_STATE = 52; // its state
export const C_BACKUP = 56; // the parameters of the last step whose draws were all good (P)
export const C_TARGET = 60; // built-in target kind (0: the caller's)
export const C_TDATA = 64; // its data
export const C_TN = 68; // its size (rows, groups)
export const C_WORK = 72; // scratch: 2 d values, and the target's own (see vit_eval)
export const C_SEED = 76; // the seed
export const C_STATUS = 80; // out: ST_*
export const C_BAD_DRAW = 84; // out: the draw (0-based) a bad value came from
export const C_BAD_COORD = 88; // out: the coordinate of a bad gradient or parameter
export const C_COUNTER = 96; // float64: draws taken from the training stream
export const C_ELBO = 104; // float64 out: the step's ELBO estimate (mean ln p over its draws + entropy)
export const C_BYTES = 112;

export const ST_OK = 0;
export const ST_NAN = 1; // a log density is NaN
export const ST_POS_INF = 2; // a log density is +inf
export const ST_NEG_INF = 3; // a log density is -inf: the draw left the target's support
export const ST_GRAD = 4; // a gradient coordinate is not finite
export const ST_PARAMS = 5; // the update made a parameter non-finite

// The training stream of a seed (src/vi.ts uses others for evaluation and sampling).
const STREAM_TRAIN: u32 = 0;

// @ts-ignore: decorator
@inline function i32At(ctx: usize, field: i32): i32 {
  return load<i32>(ctx + <usize>field);
}

// @ts-ignore: decorator
@inline function ptrAt(ctx: usize, field: i32): usize {
  return <usize>load<u32>(ctx + <usize>field);
}

// Draws the first step's e and z and keeps the starting parameters as the last good ones.
export function vi_start(ctx: usize): void {
  const d = i32At(ctx, C_D), family = i32At(ctx, C_FAMILY), s = i32At(ctx, C_S);
  const theta = ptrAt(ctx, C_THETA);
  memory.copy(ptrAt(ctx, C_BACKUP), theta, <usize>i32At(ctx, C_P) << 3);
  const counter = load<f64>(ctx + C_COUNTER);
  vi_draw(family, d, theta, <u32>i32At(ctx, C_SEED), STREAM_TRAIN, counter, s, ptrAt(ctx, C_EPS), ptrAt(ctx, C_Z));
}

// The first bad log density or gradient of the step's draws (ST_OK when there is none).
function check(ctx: usize, d: i32, s: i32): i32 {
  const lp = ptrAt(ctx, C_LP), gz = ptrAt(ctx, C_GZ);
  for (let k = 0; k < s; k++) {
    const v = load<f64>(lp + (<usize>k << 3));
    const st = v != v ? ST_NAN : v == Infinity ? ST_POS_INF : v == -Infinity ? ST_NEG_INF : ST_OK;
    if (st != ST_OK) {
      store<i32>(ctx + C_BAD_DRAW, k);
      return st;
    }
  }
  const n = s * d;
  for (let k = 0; k < n; k++) {
    if (!isFinite(load<f64>(gz + (<usize>k << 3)))) {
      store<i32>(ctx + C_BAD_DRAW, k / d);
      store<i32>(ctx + C_BAD_COORD, k % d);
      return ST_GRAD;
    }
  }
  return ST_OK;
}

// The gradient of the negative ELBO from the step's draws into C_GRAD:
//   d/dmu_i   = -mean_k g_ki
//   d/dL_ij   = -mean_k g_ki e_kj                        (j < i, full-rank)
//   d/dw_i    = -mean_k g_ki e_ki L_ii - 1               (w_i = ln L_ii; the 1 is the entropy's)
// with g the target's gradient; with "sticking the landing" g is replaced by the path derivative
// g + L^-T e of ln p - ln q at fixed parameters and the entropy's term is dropped.
function gradient(ctx: usize, d: i32, s: i32, family: i32, stl: bool): void {
  const theta = ptrAt(ctx, C_THETA), grad = ptrAt(ctx, C_GRAD), eps = ptrAt(ctx, C_EPS);
  const gz = ptrAt(ctx, C_GZ), work = ptrAt(ctx, C_WORK);
  const np = i32At(ctx, C_P);
  memory.fill(grad, 0, <usize>np << 3);
  const stride = <usize>d << 3;
  for (let k = 0; k < s; k++) {
    const e = eps + <usize>k * stride;
    let g = gz + <usize>k * stride;
    if (stl) {
      // u = L^-T e by back substitution, then g + u into work.
      if (family == MEANFIELD) {
        const w = theta + stride;
        for (let i = 0; i < d; i++) {
          const o = <usize>i << 3;
          store<f64>(work + o, load<f64>(g + o) + load<f64>(e + o) / Math.exp(load<f64>(w + o)));
        }
      } else {
        const u = work + stride;
        for (let i = d - 1; i >= 0; i--) {
          let r = load<f64>(e + (<usize>i << 3));
          for (let j = i + 1; j < d; j++) {
            r -= load<f64>(rowAt(theta, d, j) + (<usize>i << 3)) * load<f64>(u + (<usize>j << 3));
          }
          store<f64>(u + (<usize>i << 3), r / Math.exp(load<f64>(rowAt(theta, d, i) + (<usize>i << 3))));
        }
        for (let i = 0; i < d; i++) {
          const o = <usize>i << 3;
          store<f64>(work + o, load<f64>(g + o) + load<f64>(u + o));
        }
      }
      g = work;
    }
    if (family == MEANFIELD) {
      const gw = grad + stride;
      for (let i = 0; i < d; i++) {
        const o = <usize>i << 3;
        const gi = load<f64>(g + o);
        store<f64>(grad + o, load<f64>(grad + o) + gi);
        store<f64>(gw + o, load<f64>(gw + o) + gi * load<f64>(e + o));
      }
    } else {
      for (let i = 0; i < d; i++) {
        const gi = load<f64>(g + (<usize>i << 3));
        store<f64>(grad + (<usize>i << 3), load<f64>(grad + (<usize>i << 3)) + gi);
        const row = rowAt(grad, d, i);
        for (let j = 0; j <= i; j++) {
          const o = <usize>j << 3;
          store<f64>(row + o, load<f64>(row + o) + gi * load<f64>(e + o));
        }
      }
    }
  }
  const fs = <f64>s;
  const entropyTerm: f64 = stl ? 0 : 1;
  for (let i = 0; i < d; i++) store<f64>(grad + (<usize>i << 3), -load<f64>(grad + (<usize>i << 3)) / fs);
  if (family == MEANFIELD) {
    for (let i = d; i < 2 * d; i++) {
      const o = <usize>i << 3;
      store<f64>(grad + o, -(load<f64>(grad + o) / fs) * Math.exp(load<f64>(theta + o)) - entropyTerm);
    }
  } else {
    for (let i = 0; i < d; i++) {
      const row = rowAt(grad, d, i);
      for (let j = 0; j < i; j++) store<f64>(row + (<usize>j << 3), -load<f64>(row + (<usize>j << 3)) / fs);
      const o = <usize>i << 3;
      const li = Math.exp(load<f64>(rowAt(theta, d, i) + o));
      store<f64>(row + o, -(load<f64>(row + o) / fs) * li - entropyTerm);
    }
  }
}

// |ln L_ii| beyond this is a diverged scale: ln(1e304) = 699.98 (see: exp overflows past 709.78).
const LOG_SCALE_MAX: f64 = 699.98;

// The first parameter that is not finite or is a log-diagonal entry of L beyond LOG_SCALE_MAX,
// or -1. Full-rank row r's diagonal sits at d + r (r + 3) / 2.
function badParameter(family: i32, d: i32, np: i32, theta: usize): i32 {
  let nextDiagonal = d; // the index of the next log-diagonal entry
  let row = 0;
  for (let i = 0; i < np; i++) {
    const v = load<f64>(theta + (<usize>i << 3));
    let bad = !isFinite(v);
    if (i == nextDiagonal) {
      bad = bad || Math.abs(v) > LOG_SCALE_MAX;
      row++;
      nextDiagonal += family == MEANFIELD ? 1 : row + 1;
    }
    if (bad) return i;
  }
  return -1;
}

// One step from the draws' log densities (C_LP) and gradients (C_GZ): checks them, estimates the
// ELBO, updates the parameters with rate lr at step t (from 1), and draws the next step's e and z.
// Returns ST_*; on anything but ST_OK the parameters are the last good ones (C_BACKUP).
export function vi_update(ctx: usize, lr: f64, t: f64): i32 {
  const d = i32At(ctx, C_D), family = i32At(ctx, C_FAMILY), s = i32At(ctx, C_S);
  const np = i32At(ctx, C_P);
  const theta = ptrAt(ctx, C_THETA), backup = ptrAt(ctx, C_BACKUP);
  const bytes = <usize>np << 3;
  let st = check(ctx, d, s);
  if (st != ST_OK) {
    memory.copy(theta, backup, bytes);
    store<i32>(ctx + C_STATUS, st);
    return st;
  }
  const lp = ptrAt(ctx, C_LP);
  let sum: f64 = 0;
  for (let k = 0; k < s; k++) sum += load<f64>(lp + (<usize>k << 3));
  store<f64>(ctx + C_ELBO, sum / <f64>s + vi_entropy(family, d, theta));
  gradient(ctx, d, s, family, i32At(ctx, C_STL) != 0);
  memory.copy(backup, theta, bytes);
  optim_f64(i32At(ctx, C_OPT), ptrAt(ctx, C_HYPER), theta, ptrAt(ctx, C_GRAD), ptrAt(ctx, C_STATE), np, lr, t);
  // Non-finite, or a log-diagonal whose exp over- or underflows (a scale above 1e304 or below
  // 1e-304: q has collapsed or exploded).
  const badAt = badParameter(family, d, np, theta);
  if (badAt >= 0) {
    memory.copy(theta, backup, bytes);
    store<i32>(ctx + C_BAD_COORD, badAt);
    store<i32>(ctx + C_STATUS, ST_PARAMS);
    return ST_PARAMS;
  }
  const counter = load<f64>(ctx + C_COUNTER) + <f64>s;
  store<f64>(ctx + C_COUNTER, counter);
  vi_draw(family, d, theta, <u32>i32At(ctx, C_SEED), STREAM_TRAIN, counter, s, ptrAt(ctx, C_EPS), ptrAt(ctx, C_Z));
  store<i32>(ctx + C_STATUS, ST_OK);
  return ST_OK;
}

// Up to `steps` steps on a built-in target at rate lr, the first being step t0 (from 1); each
// step's ELBO estimate into hist. Returns the steps completed; C_STATUS says why it stopped early.
export function vi_run(ctx: usize, steps: i32, lr: f64, t0: f64, hist: usize): i32 {
  const d = i32At(ctx, C_D), s = i32At(ctx, C_S);
  const kind = i32At(ctx, C_TARGET), data = ptrAt(ctx, C_TDATA), tn = i32At(ctx, C_TN);
  const z = ptrAt(ctx, C_Z), gz = ptrAt(ctx, C_GZ), lp = ptrAt(ctx, C_LP);
  const work = ptrAt(ctx, C_WORK) + (<usize>(2 * d) << 3);
  for (let i = 0; i < steps; i++) {
    vit_eval(kind, data, tn, d, z, gz, lp, s, work);
    if (vi_update(ctx, lr, t0 + <f64>i) != ST_OK) return i;
    store<f64>(hist + (<usize>i << 3), load<f64>(ctx + C_ELBO));
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------
// The diagnostics' estimates from n log-weights w: out = [mean, its standard error,
// ln mean exp(w)]. The sums are compensated (Neumaier 1974, "Rundungsfehleranalyse einiger
// Verfahren zur Summation endlicher Summen"): their error stays near one rounding whatever n, so
// the ELBO (the mean) and the ln p(x) estimate keep Jensen's order even when every w is the same.

// @ts-ignore: decorator
@inline function twoSum(s: f64, v: f64, c: usize): f64 {
  const t = s + v;
  store<f64>(c, load<f64>(c) + (Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s));
  return t;
}

export function vi_summary(w: usize, n: i32, out: usize): void {
  const c = out + 24; // the compensation, a scratch slot
  store<f64>(c, 0);
  let s: f64 = 0;
  let max = -Infinity;
  let outside = false; // a weight of 0 (ln w = -inf): the mean is -inf
  for (let i = 0; i < n; i++) {
    const v = load<f64>(w + (<usize>i << 3));
    if (v == -Infinity) outside = true;
    else s = twoSum(s, v, c);
    max = Math.max(max, v);
  }
  const mean = outside ? -Infinity : (s + load<f64>(c)) / <f64>n;
  store<f64>(out, mean);
  if (!isFinite(mean)) {
    store<f64>(out + 8, NaN);
  } else {
    store<f64>(c, 0);
    s = 0;
    for (let i = 0; i < n; i++) {
      const dv = load<f64>(w + (<usize>i << 3)) - mean;
      s = twoSum(s, dv * dv, c);
    }
    store<f64>(out + 8, Math.sqrt((s + load<f64>(c)) / <f64>(n - 1) / <f64>n));
  }
  if (max == -Infinity) {
    store<f64>(out + 16, -Infinity);
    return;
  }
  store<f64>(c, 0);
  s = 0;
  for (let i = 0; i < n; i++) s = twoSum(s, Math.exp(load<f64>(w + (<usize>i << 3)) - max), c);
  store<f64>(out + 16, max + Math.log((s + load<f64>(c)) / <f64>n));
}
