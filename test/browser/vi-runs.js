// Seeded fitVI runs shared by the browser page (test/browser/page.js) and the Node side of
// test/browser.test.ts: both run this code, so their results must agree bit for bit. Numbers
// travel as JSON, with NaN, the infinities and -0 as strings.

const LN_2PI = Math.log(2 * Math.PI);

const encode = (x) =>
  Number.isNaN(x)
    ? "NaN"
    : x === Infinity
      ? "Infinity"
      : x === -Infinity
        ? "-Infinity"
        : Object.is(x, -0)
          ? "-0"
          : x;

const SCHOOLS = {
  y: [28, 8, -3, 7, -1, 1, 18, 12],
  sigma: [15, 10, 16, 11, 9, 11, 10, 18],
};

// ln N(3 | z, 1) + ln N(z | 0, 1), written in JS: its own arithmetic, the same in every engine.
const conjugate = {
  dim: 1,
  logDensity(z, grad) {
    const a = 3 - z[0];
    grad[0] = a - z[0];
    return -LN_2PI - 0.5 * a * a - 0.5 * z[0] * z[0];
  },
};

export const viRuns = [
  { name: "conjugate/meanfield", target: "conjugate", options: { steps: 400, samples: 4, seed: 3 } },
  { name: "conjugate/stl", target: "conjugate", options: { steps: 300, seed: 4, stickingTheLanding: true } },
  {
    name: "conjugate/finite-difference",
    target: "conjugate",
    options: { steps: 200, seed: 5, gradient: "finite-difference" },
  },
  { name: "gaussian/fullrank", target: "gaussian", options: { family: "fullrank", steps: 300, seed: 6 } },
  { name: "schools/meanfield", target: "schools", options: { steps: 300, seed: 7 } },
  {
    name: "schools/convergence",
    target: "schools",
    options: { steps: 600, seed: 8, convergence: { every: 50, draws: 64 } },
  },
  { name: "logistic", target: "logistic", options: { steps: 200, samples: 2, seed: 9 } },
];

function targetOf(api, name) {
  if (name === "conjugate") return conjugate;
  if (name === "gaussian")
    return api.targets.gaussian({
      mean: [1, -2],
      covariance: [
        [1, 0.9],
        [0.9, 1],
      ],
    });
  if (name === "schools") return api.targets.hierarchicalNormal(SCHOOLS);
  const x = [];
  const y = [];
  for (let i = 0; i < 30; i++) {
    const t = (i / 29) * 4 - 2;
    x.push([1, t, t * t - 1]);
    y.push((i * 7) % 3 === 0 ? 1 : 0);
  }
  return api.targets.logisticRegression({ x, y, priorScale: [5, 2, 2] });
}

/** One run on `api` (the klcore module or an instance), with `adam` from the module. */
export async function runVI(api, adam, run) {
  const q = await api.fitVI(targetOf(api, run.target), {
    ...run.options,
    optimizer: adam({ learningRate: 0.05 }),
    evaluationDraws: 512,
  });
  const arr = (a) => Array.from(a, encode);
  return {
    mean: arr(q.mean),
    sd: arr(q.sd),
    covariance: arr(q.covariance),
    elbo: encode(q.elbo),
    elboStdErr: encode(q.elboStdErr),
    logEvidence: encode(q.logEvidence),
    paretoK: encode(q.paretoK),
    history: arr(q.history),
    steps: q.steps,
    stopReason: q.stopReason,
    convergedAt: q.convergedAt,
    sample: arr(q.sample(5, { seed: 2 })),
  };
}
