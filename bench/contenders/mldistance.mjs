// ml-distance 5.x as a peer contender: the divergences of the mljs distance collection, called as its
// users call them, on the caller's arrays (Float32Array or Float64Array alike; no copy, no conversion).
//
// Interface: each factory is untimed and returns a zero-argument function, the timed call, which
// returns a number comparable to klcore's: the natural-log KL divergence and the Jensen-Shannon
// divergence (not the distance).
//
// What the library computes (lib/distances/*.js, 5.0.0):
//   distance.kullbackLeibler(a, b) = sum a ln(a / b), natural log, with no special case for zeros:
//     a term with a = 0 is 0 * ln 0 = 0 * -Infinity = NaN, so one zero in p makes the result NaN
//     (klcore, SciPy: that term is 0); a = 0 and b = 0 gives NaN too; b = 0 with a > 0 gives +Infinity.
//   distance.jensenShannon(a, b) = (sum a ln(2a / (a + b)) + sum b ln(2b / (a + b))) / 2: documented as
//     the "Jensen-Shannon distance" but it is the divergence JS(p, q) = KL(p || m)/2 + KL(q || m)/2 with
//     m = (p + q)/2, natural log, no square root; a zero in either p or q makes it NaN.
//   Neither checks lengths, signs or normalisation. (distance.kdivergence is KL(a || m), and
//   distance.topsoe is 2 JS.)
// So no conversion is needed for either; on inputs with zeros in p (the benchmark's) both return NaN,
// which is their value, not a failure of the contender.
//
// One function serves both element types, as it would in a user's program: once it has seen both
// Float32Array and Float64Array it is polymorphic, unlike the JS baseline's one copy per type.

import { distance } from "ml-distance";

if (typeof distance.kullbackLeibler !== "function" || typeof distance.jensenShannon !== "function") {
  throw new Error("ml-distance: distance.kullbackLeibler or distance.jensenShannon is missing");
}

/** KL(p || q), natural log: distance.kullbackLeibler(p, q). NaN when p has a zero. */
export function mlKl(p, q) {
  return () => distance.kullbackLeibler(p, q);
}

/** Jensen-Shannon divergence, natural log: distance.jensenShannon(p, q). NaN when p or q has a zero. */
export function mlJs(p, q) {
  return () => distance.jensenShannon(p, q);
}
