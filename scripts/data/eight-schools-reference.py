#!/usr/bin/env python3
"""The eight-schools posterior's moments by quadrature, for docs/variational-inference.md.

With theta_j integrated out, y_j | mu, tau ~ N(mu, sigma_j^2 + tau^2), so the posterior of
(mu, s = ln tau) is two-dimensional:

    p(mu, s | y) ∝ N(mu | 0, 5^2) HalfCauchy(e^s | 0, 5) e^s prod_j N(y_j | mu, sigma_j^2 + e^2s)

and its moments are ratios of two-dimensional integrals, computed here on a fine grid (trapezoid
rule; the integrand is smooth and its tails are far below float64's resolution at the grid's
edges). theta_j's moments follow from the normal conditional theta_j | mu, tau, y. ln p(y), the
evidence, is the same integral's normaliser with every constant kept.

Run: python3 scripts/data/eight-schools-reference.py (NumPy only). Prints JSON.
"""

import json
import math

import numpy as np

Y = np.array([28, 8, -3, 7, -1, 1, 18, 12], dtype=float)
SIGMA = np.array([15, 10, 16, 11, 9, 11, 10, 18], dtype=float)


def grid(n_mu, n_s):
    mu = np.linspace(-60, 70, n_mu)
    s = np.linspace(-25, 8, n_s)
    M, S = np.meshgrid(mu, s, indexing="ij")
    tau = np.exp(S)
    lp = -0.5 * math.log(2 * math.pi) - math.log(5) - 0.5 * (M / 5) ** 2
    lp = lp + math.log(2 / (math.pi * 5)) - np.log1p((tau / 5) ** 2) + S
    v = SIGMA[None, None, :] ** 2 + tau[:, :, None] ** 2
    lp = lp + np.sum(-0.5 * np.log(2 * math.pi * v) - 0.5 * (Y[None, None, :] - M[:, :, None]) ** 2 / v, axis=2)
    return mu, s, M, S, tau, lp


def moments(n_mu, n_s):
    mu, s, M, S, tau, lp = grid(n_mu, n_s)
    top = lp.max()
    w = np.exp(lp - top)
    integral = lambda f: np.trapezoid(np.trapezoid(f * w, s, axis=1), mu)
    z = integral(np.ones_like(w))
    mean = lambda f: integral(f) / z
    out = {"log_evidence": top + math.log(z)}
    for name, f in (("mu", M), ("tau", tau), ("log_tau", S)):
        m = mean(f)
        out[name] = {"mean": m, "sd": math.sqrt(mean(f * f) - m * m)}
    # theta_j | mu, tau, y ~ N((y_j / sigma_j^2 + mu / tau^2) / (1/sigma_j^2 + 1/tau^2), 1 / (...)).
    thetas = []
    for j in range(len(Y)):
        prec = 1 / SIGMA[j] ** 2 + 1 / tau**2
        cm = (Y[j] / SIGMA[j] ** 2 + M / tau**2) / prec
        m = mean(cm)
        thetas.append({"mean": m, "sd": math.sqrt(mean(cm * cm + 1 / prec) - m * m)})
    out["theta"] = thetas
    return out


def main():
    coarse = moments(1301, 1651)
    fine = moments(2601, 3301)
    # The grid halving changes nothing at the printed precision: the quadrature has converged.
    diff = max(
        abs(coarse[k][m] - fine[k][m]) for k in ("mu", "tau", "log_tau") for m in ("mean", "sd")
    )
    fine["grid_change"] = diff
    fine["log_evidence_grid_change"] = abs(coarse["log_evidence"] - fine["log_evidence"])
    print(json.dumps(fine, indent=1))


if __name__ == "__main__":
    main()
