#!/usr/bin/env python3
"""Reference values for the float64 vector log, exp and log1p (scripts/measure/measure-math.mjs reads them).

The reference is computed in numpy.longdouble, the x87 80-bit extended format on x86-64 Linux
(64-bit significand: 11 bits more than float64; glibc's logl/expl/log1pl are within about 1 ulp of it),
and stored as a double-double pair (hi, lo) so that an error is measured to ~1/1000 ulp of float64.
On a machine whose longdouble is plain float64 this script refuses to run.

Output: build/math-ref/{log,exp,log1p}.f64 (little-endian float64 triples x, hi, lo) and index.json
(groups in file order: name and count). Fixed seed: the same samples on every run.

Usage: python3 scripts/data/math-reference.py [--check N]   (--check: compare N points with mpmath)
"""

import json
import os
import sys

import numpy as np

if np.finfo(np.longdouble).nmant < 63:
    sys.exit("numpy.longdouble is not 80-bit extended here: no reference can be made this way")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "math-ref")
rng = np.random.default_rng(20240601)

DBL_MIN_BITS = 0x0010000000000000
DBL_MAX_BITS = 0x7FEFFFFFFFFFFFFF


def from_bits(b):
    return np.asarray(b, dtype=np.uint64).view(np.float64)


def bits(x):
    return np.asarray(x, dtype=np.float64).view(np.uint64)


def around(x, ulps):
    """Every double within `ulps` of each x (positive x only)."""
    b = bits(x).astype(np.int64)
    d = np.arange(-ulps, ulps + 1, dtype=np.int64)
    return from_bits((b[:, None] + d[None, :]).ravel().astype(np.uint64))


def uniform(lo, hi, n):
    return rng.uniform(lo, hi, n)


def log_groups():
    k = np.arange(-1022, 1024, dtype=np.float64)
    return [
        # Uniform over bit patterns: log-uniform over the whole normal range.
        ("normal range, uniform bits",
         from_bits(rng.integers(DBL_MIN_BITS, DBL_MAX_BITS, 2_000_000, dtype=np.uint64))),
        ("[0.5, 2]", uniform(0.5, 2.0, 1_000_000)),
        ("1 +- 2^-20", 1.0 + uniform(-2.0**-20, 2.0**-20, 500_000)),
        ("1 +- 64 ulp", around(np.array([1.0]), 64)),
        # The reduction's boundaries: 1 + f = sqrt(2)/2 and sqrt(2) in every binade.
        ("sqrt(2)/2 * 2^k +- 32 ulp", around(np.ldexp(np.sqrt(0.5), k.astype(np.int64))[1:], 32)),
        ("powers of two +- 8 ulp", around(np.ldexp(1.0, k.astype(np.int64))[1:], 8)),
        ("min normal + 8192 ulp, max finite - 8192 ulp", np.concatenate([
            from_bits(np.arange(DBL_MIN_BITS, DBL_MIN_BITS + 8192, dtype=np.uint64)),
            from_bits(np.arange(DBL_MAX_BITS - 8191, DBL_MAX_BITS + 1, dtype=np.uint64)),
        ])),
    ]


def exp_groups():
    MINLOG = float.fromhex("-0x1.6232bdd7abcd2p+9")  # -708.3964185322641
    MAXLOG = float.fromhex("0x1.62e42fefa39efp+9")   # 709.782712893384
    tiny = np.exp2(uniform(-60, -1, 500_000))
    half_ln2 = (np.arange(-1022, 1024) + 0.5) * np.log(2.0)
    half_ln2 = half_ln2[(half_ln2 > MINLOG + 1) & (half_ln2 < MAXLOG - 1)]
    # Boundaries of the reduction: x = (k + 1/2) ln2, where round(x / ln2) changes.
    pos = half_ln2[half_ln2 > 0]
    neg = -half_ln2[half_ln2 < 0]
    return [
        ("[MINLOG, MAXLOG]", uniform(MINLOG, MAXLOG, 2_000_000)),
        ("[-1, 1]", uniform(-1.0, 1.0, 1_000_000)),
        ("+-[2^-60, 2^-1], log-uniform", np.concatenate([tiny[:250_000], -tiny[250_000:]])),
        ("(k + 1/2) ln2 +- 16 ulp", np.concatenate([around(pos, 16), -around(neg, 16)])),
        ("MINLOG, MAXLOG and 8191 ulp inside", np.concatenate([
            -from_bits(np.arange(bits(-MINLOG) - 8191, bits(-MINLOG) + 1, dtype=np.uint64)),
            from_bits(np.arange(bits(MAXLOG) - 8191, bits(MAXLOG) + 1, dtype=np.uint64)),
        ])),
    ]


def log1p_groups():
    tiny = np.exp2(uniform(-60, -1, 500_000))
    return [
        ("[0, 1] uniform", uniform(0.0, 1.0, 1_000_000)),
        ("(-1, 0] uniform", -uniform(0.0, 1.0, 500_000)),
        ("+-[2^-60, 2^-1], log-uniform", np.concatenate([tiny[:250_000], -tiny[250_000:]])),
        # The arguments binary cross-entropy passes: e^-|z| for |z| up to the fast domain's 708.
        ("e^-[0, 708]", np.exp(-uniform(0.0, 708.0, 500_000))),
        ("[1, 1e300], log-uniform", 10.0 ** uniform(0.0, 300.0, 500_000)),
    ]


def write(name, groups, fn):
    xs = np.concatenate([g for _, g in groups]).astype(np.float64)
    ref = fn(xs.astype(np.longdouble))
    hi = ref.astype(np.float64)
    lo = (ref - hi.astype(np.longdouble)).astype(np.float64)
    out = np.empty((xs.size, 3), dtype="<f8")
    out[:, 0], out[:, 1], out[:, 2] = xs, hi, lo
    out.tofile(os.path.join(OUT, f"{name}.f64"))
    return [{"name": n, "count": int(g.size)} for n, g in groups], xs, hi, lo


def check(xs, hi, lo, fn, n):
    import mpmath
    mpmath.mp.prec = 120
    idx = rng.choice(xs.size, size=min(n, xs.size), replace=False)
    worst = 0.0
    for i in idx:
        exact = fn(mpmath.mpf(float(xs[i])))
        got = mpmath.mpf(float(hi[i])) + mpmath.mpf(float(lo[i]))
        if exact == 0:
            continue
        ulp = 2.0 ** (np.frexp(float(hi[i]))[1] - 53)
        worst = max(worst, float(abs(got - exact)) / ulp)
    return worst


def main():
    os.makedirs(OUT, exist_ok=True)
    index = {}
    index["log"], *log_data = write("log", log_groups(), np.log)
    index["exp"], *exp_data = write("exp", exp_groups(), np.exp)
    index["log1p"], *log1p_data = write("log1p", log1p_groups(), np.log1p)
    index["reference"] = "numpy.longdouble (x87 80-bit) log/exp/log1p as double-double (hi, lo)"
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
    for name in ("log", "exp", "log1p"):
        print(f"{name}: {sum(g['count'] for g in index[name])} points")
    if "--check" in sys.argv:
        n = int(sys.argv[sys.argv.index("--check") + 1])
        import mpmath
        for name, data, fn in (
            ("log", log_data, mpmath.log),
            ("exp", exp_data, mpmath.exp),
            ("log1p", log1p_data, mpmath.log1p),
        ):
            worst = check(*data, fn, n)
            print(f"{name} reference vs mpmath (120 bits), {n} points: max {worst:.2e} ulp")


main()
