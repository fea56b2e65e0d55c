// Eight schools (Rubin 1981): variational inference on the non-centred hierarchical model, against
// the reference posterior by quadrature (docs/variational-inference.md, section 10). A Gaussian q
// gets mu right but cannot follow the funnel toward tau = 0, so ln tau's sd comes out too small;
// the diagnostics say how far to trust q, and Pareto-smoothed importance weights on q's own
// draws move the moments back toward the posterior. Run: npm run build && node examples/eight-schools.mjs
import { adam, cosineSchedule, fitVI, psis, targets } from "../dist/index.js";

const y = [28, 8, -3, 7, -1, 1, 18, 12];
const sigma = [15, 10, 16, 11, 9, 11, 10, 18];
// scripts/data/eight-schools-reference.py
const reference = {
  mu: [4.3968, 3.3177],
  tau: [3.5977, 3.22],
  logTau: [0.8021, 1.1712],
  logEvidence: -31.3113,
};

const target = targets.hierarchicalNormal({ y, sigma }); // z = (mu, ln tau, theta~_1..theta~_8)
const steps = 8000;
const draws = 20000;

/** Mean and sd of f over draws (dim values each), weighted by w (normalised) or equally. */
function moments(x, dim, f, w) {
  const n = x.length / dim;
  let m = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const v = f(x.subarray(i * dim, i * dim + dim));
    const wi = w ? w[i] : 1 / n;
    m += wi * v;
    m2 += wi * v * v;
  }
  return [m, Math.sqrt(m2 - m * m)];
}

const fmt = ([m, s]) => `${m.toFixed(2).padStart(6)} ± ${s.toFixed(2).padEnd(5)}`;
const columns = [["reference", null]];
const rows = { mu: [fmt(reference.mu)], tau: [fmt(reference.tau)], "ln tau": [fmt(reference.logTau)] };
const notes = [];

for (const family of ["meanfield", "fullrank"]) {
  const q = await fitVI(target, {
    family,
    steps,
    samples: 16,
    seed: 1,
    optimizer: adam({ learningRate: cosineSchedule({ initial: 0.02, steps }) }),
  });
  const x = q.sample(draws, { seed: 2 });
  const dim = target.dim;
  // ln p - ln q at q's draws, then PSIS's smoothed weights.
  const logw = new Float64Array(draws);
  for (let i = 0; i < draws; i++) {
    const z = x.subarray(i * dim, i * dim + dim);
    logw[i] = target.logDensity(z) - q.logDensity(z);
  }
  const smoothed = psis(logw);
  const w = smoothed.logWeights.map(Math.exp);
  const mu = (z) => z[0];
  const tau = (z) => Math.exp(z[1]);
  const logTau = (z) => z[1];
  columns.push([family, null], [`${family} + PSIS`, null]);
  rows.mu.push(fmt(moments(x, dim, mu)), fmt(moments(x, dim, mu, w)));
  rows.tau.push(fmt(moments(x, dim, tau)), fmt(moments(x, dim, tau, w)));
  rows["ln tau"].push(fmt(moments(x, dim, logTau)), fmt(moments(x, dim, logTau, w)));
  const k = q.paretoK;
  const reading = k < 0.5 ? "good" : k <= 0.7 ? "usable with care" : "do not trust q";
  notes.push(
    `${family}: ${q.stopReason} after ${q.steps} steps; ELBO ${q.elbo.toFixed(3)} ± ${q.elboStdErr.toFixed(3)}, ` +
      `importance-weighted ln p(y) ${q.logEvidence.toFixed(3)} (reference ${reference.logEvidence}); ` +
      `Pareto k ${k.toFixed(2)} (${reading}); k on the ${draws} draws above: ${smoothed.k.toFixed(2)}`,
  );
}

const width = 18;
console.log(`eight schools, ${steps} steps of 16 draws, moments from ${draws} draws of each q`);
console.log(["".padEnd(8), ...columns.map(([c]) => c.padEnd(width))].join(""));
for (const [name, cells] of Object.entries(rows)) {
  console.log([name.padEnd(8), ...cells.map((c) => c.padEnd(width))].join(""));
}
for (const note of notes) console.log(note);
console.log(
  "ln tau's sd: a Gaussian q cannot follow the funnel toward tau = 0, so it is too small; " +
    "k > 0.7 would say do not trust q, 0.5 to 0.7 use it with care.",
);
