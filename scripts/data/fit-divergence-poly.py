#!/usr/bin/env python3
"""Polynomial coefficients of the divergence kernels' near-equal forms (assembly/math/logratio.ts,
assembly/math/jsterm.ts), and the error of each rounded polynomial.

Both functions are analytic on the interval, with the nearest singularity at z = 1, so a Chebyshev
interpolant (mpmath.chebyfit, within a small factor of the minimax polynomial) of modest degree
reaches the target; the coefficients are then rounded to the kernel's float format, and the error
is measured at 20,001 points of the interval by evaluating the rounded polynomial exactly (mpmath,
60 digits): that is the truncation plus coefficient rounding error, before the evaluation's own
rounding (which the tests measure through the kernels).

- P(z), z = u^2: ln((1 + u)/(1 - u)) = 2u + u z P(z), P = 2 (1/3 + z/5 + z^2/7 + ...); fitted whole,
  degree 7 in float64 for |u| <= 0.1716 (z <= 0.0295), degree 4 in float32 for |u| <= 1/3.
- F(z), z = d^2, |d| <= 1/2 (z <= 1/4): (1 + d) ln(1 + d) + (1 - d) ln(1 - d) = d^2 F(z), F(z) =
  sum_k z^(k-1) / (k (2k - 1)) = 1 + z/6 + z^2/15 + ...; fitted as F = 1 + z G(z) so that F(0) = 1
  exactly (degree 12 in float64, 5 in float32).

Usage: python3 scripts/data/fit-divergence-poly.py   (prints the constants as they appear in assembly/)
"""

import struct

import mpmath as mp

mp.mp.dps = 60


def P(z):
    if z == 0:
        return mp.mpf(2) / 3
    u = mp.sqrt(z)
    return (mp.log((1 + u) / (1 - u)) - 2 * u) / (u * z)


def F(z):
    if z == 0:
        return mp.mpf(1)
    d = mp.sqrt(z)
    return ((1 + d) * mp.log(1 + d) + (1 - d) * mp.log(1 - d)) / z


def G(z):
    if z == 0:
        return mp.mpf(1) / 6
    return (F(z) - 1) / z


def round_to(x, fmt):
    if fmt == "f64":
        return mp.mpf(float(x))
    return mp.mpf(struct.unpack("<f", struct.pack("<f", float(x)))[0])


def hex_of(x, fmt):
    if fmt == "f64":
        return "0x%016X" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]
    return "0x%08X" % struct.unpack("<I", struct.pack("<f", float(x)))[0]


def fit(name, f, whole, zmax, degree, fmt, prefix):
    """Chebyshev fit of f on [0, zmax]; whole(z, poly) gives the function value from the poly."""
    coeffs, _ = mp.chebyfit(f, [0, zmax], degree + 1, error=True)
    coeffs = [round_to(c, fmt) for c in coeffs]  # highest degree first
    worst, at = mp.mpf(0), 0
    for i in range(20001):
        z = zmax * mp.mpf(i) / 20000
        exact = whole(z, None)
        got = whole(z, mp.polyval(coeffs, z))
        err = abs(got - exact) / abs(exact)
        if err > worst:
            worst, at = err, z
    print(f"{name}: degree {degree} in {fmt} on [0, {mp.nstr(zmax, 6)}]: max relative error {mp.nstr(worst, 3)} at z = {mp.nstr(at, 6)}")
    width = 16 if fmt == "f64" else 8
    for k, c in enumerate(reversed(coeffs)):
        kind = "u64" if fmt == "f64" else "u32"
        dec = mp.nstr(c, 21 if fmt == "f64" else 11, min_fixed=1, max_fixed=0)
        print(f"@lazy const {prefix}{k} = memory.data<{kind}>([{hex_of(c, fmt)}]); // {dec}")
    print()


if __name__ == "__main__":
    fit("P", P, lambda z, p: P(z) if p is None else p, mp.mpf("0.0295"), 7, "f64", "A")
    fit("P", P, lambda z, p: P(z) if p is None else p, mp.mpf(1) / 9, 4, "f32", "AF")
    fit("F = 1 + z G", G, lambda z, g: F(z) if g is None else 1 + z * g, mp.mpf("0.25"), 11, "f64", "J")
    fit("F = 1 + z G", G, lambda z, g: F(z) if g is None else 1 + z * g, mp.mpf("0.25"), 4, "f32", "JF")
