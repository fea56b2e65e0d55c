// The VI panel's 2-D targets: a log density with its gradient (fitVI's JavaScript target, and the
// contours the page draws), exact draws (the forward KL's gradient needs draws from p) and the
// known moments (what a full-rank q fitted by the forward KL reaches, and the reverse KL on the
// Gaussian).

import type { ViSettings } from "./state.js";

export type TargetName = ViSettings["target"];

export interface Target2D {
  /** ln p(z) up to a constant; its gradient is written into grad. */
  logDensity(z: ArrayLike<number>, grad: { [i: number]: number }): number;
  /** One exact draw from p from two standard normals. */
  draw(n1: number, n2: number, u: number): [number, number];
  /** E[z] and Cov[z] (row-major 2 x 2). */
  mean: [number, number];
  covariance: [number, number, number, number];
}

// The correlated Gaussian: sds 1 and 0.6, correlation 0.8.
const G_MEAN: [number, number] = [0.5, -0.5];
const G_SD: [number, number] = [1, 0.6];
const G_RHO = 0.8;
const G_COV: [number, number, number, number] = [
  G_SD[0] ** 2,
  G_RHO * G_SD[0] * G_SD[1],
  G_RHO * G_SD[0] * G_SD[1],
  G_SD[1] ** 2,
];

function gaussian(): Target2D {
  const [a, b, , d] = G_COV;
  const det = a * d - b * b;
  // The precision matrix, and the Cholesky factor of the covariance for the draws.
  const p11 = d / det;
  const p12 = -b / det;
  const p22 = a / det;
  const l11 = Math.sqrt(a);
  const l21 = b / l11;
  const l22 = Math.sqrt(d - l21 * l21);
  return {
    logDensity(z, grad) {
      const x = z[0]! - G_MEAN[0];
      const y = z[1]! - G_MEAN[1];
      grad[0] = -(p11 * x + p12 * y);
      grad[1] = -(p12 * x + p22 * y);
      return -0.5 * (p11 * x * x + 2 * p12 * x * y + p22 * y * y);
    },
    draw: (n1, n2) => [G_MEAN[0] + l11 * n1, G_MEAN[1] + l21 * n1 + l22 * n2],
    mean: G_MEAN,
    covariance: G_COV,
  };
}

// The banana: x ~ N(0, 1), y | x ~ N(B (x^2 - 1), S^2).
const B = 0.8;
const S = 0.5;

function banana(): Target2D {
  return {
    logDensity(z, grad) {
      const x = z[0]!;
      const u = (z[1]! - B * (x * x - 1)) / S;
      grad[0] = -x + (u / S) * 2 * B * x;
      grad[1] = -u / S;
      return -0.5 * x * x - 0.5 * u * u;
    },
    draw: (n1, n2) => [n1, B * (n1 * n1 - 1) + S * n2],
    // E[y] = B (E[x^2] - 1) = 0; Var[y] = S^2 + B^2 Var[x^2] = S^2 + 2 B^2; Cov = B E[x^3 - x] = 0.
    mean: [0, 0],
    covariance: [1, 0, 0, S * S + 2 * B * B],
  };
}

// Two modes: an equal mixture of N((-M, 0), R^2 I) and N((M, 0), R^2 I).
const M = 1.5;
const R = 0.55;

function twoModes(): Target2D {
  return {
    logDensity(z, grad) {
      const x = z[0]!;
      const y = z[1]!;
      const a = -((x + M) ** 2 + y * y) / (2 * R * R);
      const b = -((x - M) ** 2 + y * y) / (2 * R * R);
      const top = Math.max(a, b);
      const wa = Math.exp(a - top);
      const wb = Math.exp(b - top);
      const sum = wa + wb;
      // The gradient of ln(e^a + e^b): each component's gradient weighted by its responsibility.
      grad[0] = (wa * -(x + M) + wb * -(x - M)) / (R * R * sum);
      grad[1] = -y / (R * R);
      return top + Math.log(sum);
    },
    draw: (n1, n2, u) => [(u < 0.5 ? -M : M) + R * n1, R * n2],
    mean: [0, 0],
    covariance: [R * R + M * M, 0, 0, R * R],
  };
}

export function target2D(name: TargetName): Target2D {
  return name === "gaussian" ? gaussian() : name === "banana" ? banana() : twoModes();
}

/** The Gaussian target's parameters, for klcore's built-in targets.gaussian. */
export const GAUSSIAN = { mean: G_MEAN, covariance: G_COV };

/** The plotted square: [-VIEW, VIEW] on both axes, with a shift that centres each target. */
export const VIEW = 3.2;
export const CENTRE: Record<TargetName, [number, number]> = {
  gaussian: [0.3, -0.3],
  banana: [0, 0.8],
  twomodes: [0, 0],
};

/** Where q starts, away from every target's mass so that its motion shows. */
export const START = { mean: [-1.8, 1.6], scale: 0.4 };
