// klcore compare-vi: three experiments on what variational inference minimises, each against
// quadrature on a fine grid (docs/variational-inference.md has the formulas).
//
// 1. The unknown normaliser. q = N(m, s^2) fitted to a posterior p(z | x) = p(x, z) / p(x) by the
//    ELBO, from the joint alone, and by the squared L2 distance to p(x, z) / p-hat(x), which needs
//    the evidence: p-hat = c p(x) for c = 0.5, 0.9, 1, 1.1, 2. The ELBO's fit is run with the same
//    wrong normalisers divided into ln p (a constant, so its q must not move: the same bits); the
//    L2 fit moves with c. On the conjugate Gaussian (whose posterior the family contains) and on a
//    skewed 1-D posterior (a logistic likelihood).
// 2. Reverse against forward KL on a bimodal target: fitVI (reverse KL(q || p), mode-seeking)
//    against the forward KL(p || q) minimiser, which for a Gaussian q matches p's mean and
//    variance (mass-covering): both KLs and the density each q puts between the modes.
// 3. Mean-field against full-rank on a Gaussian with correlation 0.9: the sds, the ELBO gap
//    against its closed form, and the Pareto k.
//
// Every number is deterministic (seeded fits, fixed grids); only the wall time varies.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { adam, backend, cosineSchedule, fitVI, targets, type VIPosterior, type VITarget } from "klcore";
import { parseCommand, stringOption } from "./args.js";
import { chartVersions, renderSvg } from "./chart.js";
import { readFailure } from "./csv.js";
import { cannotWrite } from "./errors.js";
import { writeAtomically } from "./modelfile.js";
import { packageJson } from "./package.js";
import { toJson } from "./output.js";
import { seconds } from "./progress.js";

const LN_2PI = Math.log(2 * Math.PI);
const FACTORS = [0.5, 0.9, 1, 1.1, 2] as const;

// ---- quadrature on a grid ----

interface Grid {
  z: Float64Array;
  h: number;
}

function gridOf(lo: number, hi: number, n: number): Grid {
  const z = new Float64Array(n);
  const h = (hi - lo) / (n - 1);
  for (let i = 0; i < n; i++) z[i] = lo + i * h;
  return { z, h };
}

/** The trapezoid rule over the grid. */
function integrate(g: Grid, f: (i: number) => number): number {
  let s = 0;
  for (let i = 0; i < g.z.length; i++) s += (i === 0 || i === g.z.length - 1 ? 0.5 : 1) * f(i);
  return s * g.h;
}

const normalPdf = (z: number, m: number, s: number): number =>
  Math.exp(-0.5 * ((z - m) / s) ** 2 - 0.5 * LN_2PI) / s;
const lnNormal = (z: number, m: number, s: number): number =>
  -0.5 * ((z - m) / s) ** 2 - Math.log(s) - 0.5 * LN_2PI;

/** A 1-D posterior by quadrature: its joint, ln p(x), density on the grid, mean and sd. */
interface Posterior {
  name: string;
  title: string;
  logJoint: (z: number) => number;
  gradient: (z: number) => number;
  logEvidence: number;
  density: Float64Array;
  mean: number;
  sd: number;
}

function posteriorOf(
  g: Grid,
  name: string,
  title: string,
  logJoint: (z: number) => number,
  gradient: (z: number) => number,
): Posterior {
  const lj = Float64Array.from(g.z, logJoint);
  let top = -Infinity;
  for (const v of lj) top = Math.max(top, v);
  const logEvidence = top + Math.log(integrate(g, (i) => Math.exp(lj[i]! - top)));
  const density = Float64Array.from(lj, (v) => Math.exp(v - logEvidence));
  const mean = integrate(g, (i) => g.z[i]! * density[i]!);
  const sd = Math.sqrt(integrate(g, (i) => (g.z[i]! - mean) ** 2 * density[i]!));
  return { name, title, logJoint, gradient, logEvidence, density, mean, sd };
}

/** KL(N(m, s^2) || p) by quadrature (p's density on the grid). */
function klGaussianToGrid(g: Grid, m: number, s: number, p: Float64Array): number {
  return integrate(g, (i) => {
    const q = normalPdf(g.z[i]!, m, s);
    return q > 0 ? q * (Math.log(q) - Math.log(p[i]!)) : 0;
  });
}

/** KL(p || N(m, s^2)) by quadrature. */
function klGridToGaussian(g: Grid, p: Float64Array, m: number, s: number): number {
  return integrate(g, (i) => (p[i]! > 0 ? p[i]! * (Math.log(p[i]!) - lnNormal(g.z[i]!, m, s)) : 0));
}

// ---- the L2 fit: Nelder-Mead over (m, ln s), deterministic ----

function nelderMead(f: (x: readonly number[]) => number, start: readonly number[], step: number): number[] {
  const n = start.length;
  let simplex = [start.slice(), ...start.map((_, i) => start.map((v, j) => (i === j ? v + step : v)))];
  let values = simplex.map(f);
  for (let iter = 0; iter < 2000; iter++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    if (Math.abs(values[n]! - values[0]!) <= 1e-15 * Math.max(1e-300, Math.abs(values[0]!))) break;
    const centroid = start.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + p[j]!, 0) / n);
    const along = (t: number): number[] => centroid.map((c, j) => c + t * (simplex[n]![j]! - c));
    const r = along(-1);
    const fr = f(r);
    if (fr < values[0]!) {
      const e = along(-2);
      const fe = f(e);
      [simplex[n], values[n]] = fe < fr ? [e, fe] : [r, fr];
    } else if (fr < values[n - 1]!) {
      [simplex[n], values[n]] = [r, fr];
    } else {
      const c = along(fr < values[n]! ? -0.5 : 0.5);
      const fc = f(c);
      if (fc < Math.min(fr, values[n]!)) {
        [simplex[n], values[n]] = [c, fc];
      } else {
        for (let i = 1; i <= n; i++) {
          simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + 0.5 * (v - simplex[0]![j]!));
          values[i] = f(simplex[i]!);
        }
      }
    }
  }
  return simplex[values.indexOf(Math.min(...values))]!;
}

/** argmin over N(m, s^2) of integral (q - p(x, z) / (c p(x)))^2 dz. */
function l2Fit(g: Grid, p: Posterior, c: number): { mean: number; sd: number } {
  const t = Float64Array.from(p.density, (v) => v / c);
  const loss = ([m, ls]: readonly number[]): number => {
    const s = Math.exp(ls!);
    return integrate(g, (i) => (normalPdf(g.z[i]!, m!, s) - t[i]!) ** 2);
  };
  const [m, ls] = nelderMead(loss, [p.mean, Math.log(p.sd)], 0.3);
  return { mean: m!, sd: Math.exp(ls!) };
}

// ---- the experiments ----

interface Fit {
  method: string;
  /** The normaliser's factor c (p-hat = c p(x)); null for the ELBO, which needs none. */
  factor: number | null;
  mean: number;
  sd: number;
  /** KL(q || posterior) by quadrature. */
  kl: number;
}

interface NormaliserResult {
  target: string;
  title: string;
  posterior: { mean: number; sd: number; logEvidence: number };
  /** Whether the ELBO's q had the same bits with every wrong normaliser divided in. */
  elboIdentical: boolean;
  fits: Fit[];
}

const viOptions = (steps: number) => ({
  steps,
  samples: 8,
  seed: 1,
  stickingTheLanding: true,
  optimizer: adam({ learningRate: cosineSchedule({ initial: 0.05, steps }) }),
  evaluationDraws: 1024,
});

function jsTarget(p: Posterior, shift: number): VITarget {
  return {
    dim: 1,
    logDensity: (z, grad) => {
      grad[0] = p.gradient(z[0]!);
      return p.logJoint(z[0]!) - shift;
    },
  };
}

async function normaliser(g: Grid, p: Posterior, steps: number): Promise<NormaliserResult> {
  const q = await fitVI(jsTarget(p, 0), viOptions(steps));
  let identical = true;
  for (const c of FACTORS) {
    const shifted = await fitVI(jsTarget(p, p.logEvidence + Math.log(c)), viOptions(steps));
    identical &&= shifted.mean[0] === q.mean[0] && shifted.sd[0] === q.sd[0];
  }
  const fits: Fit[] = [
    {
      method: "ELBO",
      factor: null,
      mean: q.mean[0]!,
      sd: q.sd[0]!,
      kl: klGaussianToGrid(g, q.mean[0]!, q.sd[0]!, p.density),
    },
  ];
  for (const c of FACTORS) {
    const f = l2Fit(g, p, c);
    fits.push({
      method: "L2",
      factor: c,
      mean: f.mean,
      sd: f.sd,
      kl: klGaussianToGrid(g, f.mean, f.sd, p.density),
    });
  }
  return {
    target: p.name,
    title: p.title,
    posterior: { mean: p.mean, sd: p.sd, logEvidence: p.logEvidence },
    elboIdentical: identical,
    fits,
  };
}

interface BimodalResult {
  target: { modes: number[]; sd: number; mean: number; variance: number };
  fits: {
    method: string;
    mean: number;
    sd: number;
    reverseKl: number;
    forwardKl: number;
    densityAtZero: number;
  }[];
  targetDensityAtZero: number;
}

async function bimodal(g: Grid, steps: number): Promise<{ result: BimodalResult; p: Posterior }> {
  const a = 2;
  const s = 0.6;
  // ln(0.5 N(z | -a, s^2) + 0.5 N(z | a, s^2)), stable; its gradient.
  const logJoint = (z: number): number => {
    const l1 = lnNormal(z, -a, s);
    const l2 = lnNormal(z, a, s);
    const top = Math.max(l1, l2);
    return Math.log(0.5) + top + Math.log(Math.exp(l1 - top) + Math.exp(l2 - top));
  };
  const gradient = (z: number): number => {
    const l1 = lnNormal(z, -a, s);
    const l2 = lnNormal(z, a, s);
    const w2 = 1 / (1 + Math.exp(l1 - l2));
    return ((1 - w2) * -(z + a) + w2 * -(z - a)) / (s * s);
  };
  const p = posteriorOf(g, "bimodal", "bimodal target", logJoint, gradient);
  // From near one mode, and from between them with a wide start.
  const near = await fitVI(jsTarget(p, 0), { ...viOptions(steps), init: { mean: [1], scale: 0.5 } });
  const between = await fitVI(jsTarget(p, 0), { ...viOptions(steps), init: { mean: [0.5], scale: 1 } });
  // The forward KL's minimiser over Gaussians matches the target's mean and variance.
  const variance = s * s + a * a;
  const at0 = (m: number, sd: number): number => normalPdf(0, m, sd);
  const entry = (method: string, m: number, sd: number) => ({
    method,
    mean: m,
    sd,
    reverseKl: klGaussianToGrid(g, m, sd, p.density),
    forwardKl: klGridToGaussian(g, p.density, m, sd),
    densityAtZero: at0(m, sd),
  });
  return {
    p,
    result: {
      target: { modes: [-a, a], sd: s, mean: 0, variance },
      fits: [
        entry("reverse KL (fitVI), from N(1, 0.5^2)", near.mean[0]!, near.sd[0]!),
        entry("reverse KL (fitVI), from N(0.5, 1)", between.mean[0]!, between.sd[0]!),
        entry("forward KL (moment matching)", 0, Math.sqrt(variance)),
      ],
      targetDensityAtZero: Math.exp(logJoint(0)),
    },
  };
}

interface FamilyResult {
  rho: number;
  closedForm: { meanfieldSd: number; meanfieldGap: number };
  fits: {
    family: string;
    sd: number[];
    correlation: number;
    elbo: number;
    elboStdErr: number;
    gap: number;
    paretoK: number;
  }[];
}

async function families(steps: number): Promise<FamilyResult> {
  const rho = 0.9;
  const target = targets.gaussian({ mean: [0, 0], covariance: [1, rho, rho, 1] });
  const fits: FamilyResult["fits"] = [];
  for (const family of ["meanfield", "fullrank"] as const) {
    const q: VIPosterior = await fitVI(target, {
      ...viOptions(steps),
      family,
      samples: 16,
      stickingTheLanding: false,
      evaluationDraws: 4096,
    });
    fits.push({
      family,
      sd: Array.from(q.sd),
      correlation: q.covariance[1]! / (q.sd[0]! * q.sd[1]!),
      elbo: q.elbo,
      elboStdErr: q.elboStdErr,
      // ln p(x) = 0 for a normalised target: the gap is -ELBO.
      gap: -q.elbo,
      paretoK: q.paretoK,
    });
  }
  return {
    rho,
    closedForm: { meanfieldSd: Math.sqrt(1 - rho * rho), meanfieldGap: -0.5 * Math.log(1 - rho * rho) },
    fits,
  };
}

// ---- output ----

const g4 = (x: number): string => (Math.abs(x) >= 1e-3 || x === 0 ? x.toPrecision(4) : x.toExponential(2));

function markdown(
  command: string,
  versions: Record<string, string>,
  norm: NormaliserResult[],
  bi: BimodalResult,
  fam: FamilyResult,
  ms: number,
): string {
  const lines: string[] = [];
  lines.push("# Variational inference: what the ELBO needs, and what it finds");
  lines.push("");
  lines.push(
    `Made by \`${command}\` with klcore ${versions.klcore} (${versions.build} build), Node ${versions.node}, ` +
      `vega ${versions.vega}, vega-lite ${versions.vegaLite}, in ${seconds(ms)}. Quadrature on a grid of ` +
      "24,001 points over [-12, 12] is the reference; the fits are seeded, so the same command gives the same numbers. " +
      "Formulas: docs/variational-inference.md.",
  );
  lines.push("");
  lines.push("![the posteriors and the fitted q](vi-comparison.svg)");
  lines.push("");
  lines.push("## 1. The unknown normaliser: ELBO against L2");
  lines.push("");
  lines.push(
    "The ELBO needs only ln p(x, z). The squared L2 distance to the posterior needs p(x, z) / p(x), so " +
      "its fit is made with p-hat(x) = c p(x). The ELBO's fit was rerun with each wrong normaliser " +
      "divided into p(x, z) (ln p minus ln(c p(x))): a constant, so q must not move.",
  );
  for (const r of norm) {
    lines.push("");
    lines.push(
      `### ${r.title}: posterior mean ${g4(r.posterior.mean)}, sd ${g4(r.posterior.sd)}, ln p(x) = ${g4(r.posterior.logEvidence)}`,
    );
    lines.push("");
    lines.push(
      `ELBO's q with every normaliser divided in: ${r.elboIdentical ? "the same bits" : "DIFFERENT"}.`,
    );
    lines.push("");
    lines.push("| fit | p-hat(x) / p(x) | mean | sd | KL(q \\|\\| posterior) |");
    lines.push("| --- | ---: | ---: | ---: | ---: |");
    for (const f of r.fits) {
      lines.push(
        `| ${f.method} | ${f.factor === null ? "not needed" : f.factor} | ${g4(f.mean)} | ${g4(f.sd)} | ${g4(f.kl)} |`,
      );
    }
  }
  lines.push("");
  lines.push("## 2. Reverse against forward KL on a bimodal target");
  lines.push("");
  lines.push(
    `p = N(-2, 0.6^2) / 2 + N(2, 0.6^2) / 2 (mean 0, variance ${g4(bi.target.variance)}; density ${g4(bi.targetDensityAtZero)} at 0). ` +
      "fitVI minimises the reverse KL(q || p): started near a mode it settles on that mode (KL near ln 2 = 0.693, the " +
      "other half of p's mass missed); started wide between the modes it can stop at a broad local optimum instead. " +
      "The forward KL(p || q)'s Gaussian matches p's mean and variance, covering both modes and putting its most " +
      "density where p has almost none.",
  );
  lines.push("");
  lines.push("| q | mean | sd | KL(q \\|\\| p) | KL(p \\|\\| q) | q's density at 0 |");
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const f of bi.fits) {
    lines.push(
      `| ${f.method} | ${g4(f.mean)} | ${g4(f.sd)} | ${g4(f.reverseKl)} | ${g4(f.forwardKl)} | ${g4(f.densityAtZero)} |`,
    );
  }
  lines.push("");
  lines.push("## 3. Mean-field against full-rank, correlation 0.9");
  lines.push("");
  lines.push(
    `Closed form: mean-field sds sqrt(1 - rho^2) = ${g4(fam.closedForm.meanfieldSd)}, ELBO gap -ln(1 - rho^2) / 2 = ` +
      `${g4(fam.closedForm.meanfieldGap)} nats; full-rank contains the target (gap 0). ln p(x) = 0 (a normalised target).`,
  );
  lines.push("");
  lines.push("| family | sds | correlation | ELBO ± se | gap | Pareto k |");
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const f of fam.fits) {
    lines.push(
      `| ${f.family} | ${f.sd.map(g4).join(", ")} | ${g4(f.correlation)} | ${g4(f.elbo)} ± ${g4(f.elboStdErr)} | ${g4(f.gap)} | ${g4(f.paretoK)} |`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

function chart(
  g: Grid,
  norm: { p: Posterior; r: NormaliserResult }[],
  bi: { p: Posterior; r: BimodalResult },
): TopLevelSpec {
  const values: { panel: string; curve: string; z: number; density: number }[] = [];
  // Every 40th grid point: 600 per curve, more than a pixel resolves.
  const pick = (lo: number, hi: number) =>
    g.z.map((_, i) => i).filter((i) => i % 40 === 0 && g.z[i]! >= lo && g.z[i]! <= hi);
  const add = (panel: string, curve: string, f: (z: number, i: number) => number, lo: number, hi: number) => {
    for (const i of pick(lo, hi))
      values.push({ panel, curve, z: g.z[i]!, density: Number(f(g.z[i]!, i).toPrecision(4)) });
  };
  const panels: { id: string; title: string; lo: number; hi: number }[] = [];
  for (const { p, r } of norm) {
    const lo = p.mean - 5 * p.sd;
    const hi = p.mean + 5 * p.sd;
    panels.push({ id: p.name, title: r.title, lo, hi });
    add(p.name, "posterior", (_, i) => p.density[i]!, lo, hi);
    for (const f of r.fits) {
      if (f.method === "ELBO") add(p.name, "ELBO", (z) => normalPdf(z, f.mean, f.sd), lo, hi);
      else if (f.factor === 0.5 || f.factor === 2)
        add(p.name, `L2, p-hat = ${f.factor} p(x)`, (z) => normalPdf(z, f.mean, f.sd), lo, hi);
    }
  }
  panels.push({ id: "bimodal", title: "bimodal target", lo: -6, hi: 6 });
  add("bimodal", "posterior", (_, i) => bi.p.density[i]!, -6, 6);
  add("bimodal", "reverse KL (fitVI)", (z) => normalPdf(z, bi.r.fits[0]!.mean, bi.r.fits[0]!.sd), -6, 6);
  add("bimodal", "reverse KL, wide start", (z) => normalPdf(z, bi.r.fits[1]!.mean, bi.r.fits[1]!.sd), -6, 6);
  add("bimodal", "forward KL", (z) => normalPdf(z, bi.r.fits[2]!.mean, bi.r.fits[2]!.sd), -6, 6);
  const curves = [
    "posterior",
    "ELBO",
    "L2, p-hat = 0.5 p(x)",
    "L2, p-hat = 2 p(x)",
    "reverse KL (fitVI)",
    "reverse KL, wide start",
    "forward KL",
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "The posterior (or target) and the Gaussian q each objective finds", anchor: "start" },
    data: { values },
    columns: 3,
    concat: panels.map((p) => ({
      title: p.title,
      width: 260,
      height: 200,
      transform: [{ filter: { field: "panel", equal: p.id } }],
      mark: { type: "line", strokeWidth: 1.75 },
      encoding: {
        x: { field: "z", type: "quantitative", title: "z", scale: { domain: [p.lo, p.hi] } },
        y: { field: "density", type: "quantitative", title: "density" },
        color: { field: "curve", type: "nominal", title: "curve", scale: { domain: curves } },
        strokeDash: { condition: { test: "datum.curve === 'posterior'", value: [1, 0] }, value: [5, 3] },
      },
    })),
  };
}

export async function compareVI(args: readonly string[]): Promise<void> {
  const c = "compare-vi";
  const { values: v } = parseCommand(
    c,
    args,
    { out: { type: "string" }, quick: { type: "boolean" } },
    { names: [], required: 0 },
  );
  const quick = v.quick === true;
  const out = stringOption(v.out) ?? ".";
  const steps = quick ? 300 : 4000;
  const command = ["klcore compare-vi", ...(quick ? ["--quick"] : [])].join(" ");
  try {
    if (!existsSync(out)) mkdirSync(out, { recursive: true });
  } catch (e) {
    throw cannotWrite(out, readFailure(e));
  }
  const started = performance.now();
  const g = gridOf(-12, 12, 24001);
  // Conjugate: ln N(3 | z, 1) + ln N(z | 0, 1); skewed: z ~ N(0, 1.5^2), three successes of
  // Bernoulli(sigmoid(z)), ln p = ln N(z | 0, 1.5^2) - 3 softplus(-z).
  const softplus = (t: number): number => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
  const sigmoid = (t: number): number => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));
  const conj = posteriorOf(
    g,
    "conjugate",
    "conjugate Gaussian",
    (z) => lnNormal(3, z, 1) + lnNormal(z, 0, 1),
    (z) => 3 - z - z,
  );
  const skew = posteriorOf(
    g,
    "skewed",
    "skewed posterior (logistic likelihood)",
    (z) => lnNormal(z, 0, 1.5) - 3 * softplus(-z),
    (z) => -z / 2.25 + 3 * sigmoid(-z),
  );
  const norm = [
    { p: conj, r: await normaliser(g, conj, steps) },
    { p: skew, r: await normaliser(g, skew, steps) },
  ];
  const bi = await bimodal(g, steps);
  const fam = await families(steps);
  const spec = chart(g, norm, { p: bi.p, r: bi.result });
  const svg = await renderSvg(spec);
  const ms = performance.now() - started;
  const cv = await chartVersions();
  const versions = {
    klcore: packageJson().version ?? "unknown",
    build: backend().build,
    node: process.version,
    vega: cv.vega,
    vegaLite: cv.vegaLite,
  };
  const json = {
    format: "klcore-vi-comparison",
    version: 1,
    command,
    versions,
    settings: { steps, grid: { lo: -12, hi: 12, points: 24001 }, factors: FACTORS },
    normaliser: norm.map((n) => n.r),
    bimodal: bi.result,
    families: fam,
    totalTimeMs: ms,
  };
  writeAtomically(
    join(out, "vi-comparison.md"),
    markdown(
      command,
      versions,
      norm.map((n) => n.r),
      bi.result,
      fam,
      ms,
    ),
  );
  writeAtomically(join(out, "vi-comparison.json"), `${toJson(json)}\n`);
  writeAtomically(join(out, "vi-comparison.svg"), `${svg}\n`);
  writeAtomically(join(out, "vi-comparison.vl.json"), `${toJson(spec)}\n`);
  const lines = [`vi comparison (${command}), ${seconds(ms)}:`];
  for (const n of norm) {
    const e = n.r.fits[0]!;
    lines.push(
      `  ${n.r.title}: ELBO q ${g4(e.mean)} ± ${g4(e.sd)} (KL ${g4(e.kl)}; ${n.r.elboIdentical ? "the same bits" : "different"} with every normaliser); ` +
        n.r.fits
          .slice(1)
          .map((f) => `L2 c=${f.factor} sd ${g4(f.sd)}`)
          .join(", "),
    );
  }
  lines.push(
    `  bimodal: ${bi.result.fits.map((f) => `${f.method}: mean ${g4(f.mean)} sd ${g4(f.sd)} KL(q||p) ${g4(f.reverseKl)}`).join("; ")}`,
  );
  lines.push(`  rho 0.9: ${fam.fits.map((f) => `${f.family} gap ${g4(f.gap)}`).join(", ")}`);
  lines.push(
    `wrote ${["md", "json", "svg", "vl.json"].map((e) => join(out, `vi-comparison.${e}`)).join(", ")}`,
  );
  console.log(lines.join("\n"));
}
