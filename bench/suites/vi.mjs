// The variational-inference suite: VI steps per second on Bayesian logistic regression (VI_WORKLOAD:
// 1,000 rows x 20 features, 8 draws per step, Adam at 0.01), mean-field and full-rank, side by side:
// the plain JavaScript loop of bench/reference/vi.mjs (the baseline), klcore's fitVI on the built-in
// targets.logisticRegression (SIMD and scalar builds), and PyTorch CPU float64 with autograd
// (bench/contenders/torch_vi.py) when a PyTorch child was started (options.torch). Then eight
// schools with the caller's own JavaScript logDensity: how much of fitVI's time is klcore's beyond
// the caller's function, per draw.
//
// A call of every contender is `stepsPerCall` steps (50; 10 in a smoke run), so that fitVI's fixed
// cost per call (validation, setting up its memory, the final diagnostics on evaluationDraws: 5
// draws, the fewest it takes) is spread over the steps as a long run spreads it; that fixed cost is
// measured apart (a fitVI call of 0 steps) and reported. Every fitVI call starts again from q's
// initial parameters; the JavaScript loop and PyTorch continue from where their last call left
// them: a step's cost on this target does not depend on where q is.
//
// Before timing: klcore's built-in target must give the JavaScript target's ln p and gradient (at
// q's start and at random points), and fitVI's ELBO of q's start must equal the JavaScript
// estimator's within 5 combined standard errors (different draws: a statistical check); PyTorch
// must give the JavaScript loop's ELBO estimate and gradient at the same parameters and draws (the
// same arithmetic in float64, 1e-10). Eight schools' JavaScript logDensity must give the built-in
// hierarchicalNormal target's value and gradient.

import { adam, createInstanceSync } from "../../dist/index.js";
import { JS_VI, jsViContender, torchViContender, viData } from "../contenders/vi.mjs";
import { runWorkload } from "../harness.mjs";
import {
  VI_WORKLOAD,
  elboGradient,
  elboWorkspace,
  gaussianParams,
  gaussianStream,
  logisticRegressionTarget,
} from "../reference/vi.mjs";
import { disposeAll, extra, find, rowsOf, torchVerdict, verdict } from "./common.mjs";

export const KLCORE = "klcore fitVI";
export const KLCORE_SCALAR = "klcore fitVI, scalar build";
export const USER_ALONE = "the logDensity alone";
export const KLCORE_USER = "klcore fitVI, JS logDensity";
export const KLCORE_BUILTIN = "klcore fitVI, built-in hierarchicalNormal";
export const STEPS_PER_CALL = { full: 50, quick: 10 };
// Eight schools' steps are about a hundred times shorter: ten times the steps per call keep fitVI's
// fixed cost per call (measured apart) a small part of the per-draw figure.
export const EIGHT_SCHOOLS_STEPS_FACTOR = 10;
// The fewest final evaluation draws fitVI takes: its diagnostics are not what is timed.
export const EVALUATION_DRAWS = 5;
export const TARGETS = { vsJs: 5, vsTorch: 1 };

/**
 * Eight schools (Rubin 1981), the non-centred hierarchical normal model of targets.hierarchicalNormal
 * (muScale 5, tauScale 5, its defaults): 8 draws per step as the logistic workload.
 */
export const EIGHT_SCHOOLS = {
  y: [28, 8, -3, 7, -1, 1, 18, 12],
  sigma: [15, 10, 16, 11, 9, 11, 10, 18],
  muScale: 5,
  tauScale: 5,
  draws: 8,
};

/** How far a contender may be from the JavaScript loop before the suite refuses to time it. */
export const VI_TOLERANCE = {
  // The built-in target's ln p and gradient against the JavaScript target's (relative).
  target: 1e-12,
  // PyTorch's ELBO estimate and gradient at the same parameters and draws (relative to its scale).
  torch: 1e-10,
  // fitVI's ELBO of q's start against the JavaScript estimator's, in combined standard errors.
  elboStdErrs: 5,
};

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Eight schools' ln p(y, z) and its gradient written by hand, as a caller of fitVI would: z = (mu,
 * ln tau, theta~_1..theta~_J), theta_j = mu + tau theta~_j, y_j ~ N(theta_j, sigma_j^2),
 * mu ~ N(0, muScale^2), tau ~ HalfCauchy(0, tauScale) with the log-Jacobian ln tau, theta~_j ~ N(0, 1).
 */
export function eightSchoolsTarget({ y, sigma, muScale, tauScale }) {
  const groups = y.length;
  const dim = groups + 2;
  let constant = -Math.log(muScale) - 0.5 * LOG_2PI + Math.log(2 / Math.PI) - Math.log(tauScale);
  for (let j = 0; j < groups; j++) constant -= Math.log(sigma[j]) + LOG_2PI;
  const inv2 = sigma.map((s) => 1 / (s * s));
  return {
    dim,
    logDensity(z, grad) {
      const mu = z[0];
      const tau = Math.exp(z[1]);
      let lp = constant - (0.5 * mu * mu) / (muScale * muScale) + z[1];
      let dmu = -mu / (muScale * muScale);
      let dtau = 0;
      for (let j = 0; j < groups; j++) {
        const t = z[j + 2];
        const r = (y[j] - mu - tau * t) * inv2[j];
        lp -= 0.5 * (r * (y[j] - mu - tau * t) + t * t);
        dmu += r;
        dtau += r * t;
        grad[j + 2] = r * tau - t;
      }
      const u = tau / tauScale;
      lp -= Math.log1p(u * u);
      grad[0] = dmu;
      grad[1] = tau * dtau - (2 * u * u) / (1 + u * u) + 1;
      return lp;
    },
  };
}

/** Mean and standard error of a list of values. */
function meanAndError(xs) {
  let m = 0;
  for (const x of xs) m += x;
  m /= xs.length;
  let v = 0;
  for (const x of xs) v += (x - m) * (x - m);
  return { mean: m, stdErr: Math.sqrt(v / (xs.length - 1) / xs.length) };
}

/** The largest |a - b| relative to the largest |b|. */
function scaledDifference(a, b) {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return s > 0 ? d / s : d;
}

/** The built-in target against the JavaScript one at `points` (draws x dim): ln p and gradient. */
function targetDifference(builtin, jsTarget, points, draws) {
  const dim = jsTarget.dim;
  const g = new Float64Array(draws * dim);
  const lp = new Float64Array(draws);
  if (jsTarget.logDensityBatch) jsTarget.logDensityBatch(points, g, lp, draws);
  else
    for (let s = 0; s < draws; s++)
      lp[s] = jsTarget.logDensity(points.subarray(s * dim), g.subarray(s * dim));
  let value = 0;
  let gradient = 0;
  const bg = new Float64Array(dim);
  for (let s = 0; s < draws; s++) {
    const z = points.subarray(s * dim, (s + 1) * dim);
    const v = builtin.logDensity(z, bg);
    value = Math.max(value, Math.abs(v - lp[s]) / Math.abs(lp[s]));
    gradient = Math.max(gradient, scaledDifference(bg, g.subarray(s * dim, (s + 1) * dim)));
  }
  return { value, gradient };
}

/** The JavaScript estimator's ELBO of q's start, from `draws` draws, with its standard error. */
function startElbo(jsTarget, family, draws) {
  const dim = jsTarget.dim;
  const params = gaussianParams({ dim, family });
  const eps = gaussianStream(0x0e1b0).fill(new Float64Array(draws * dim));
  const work = elboWorkspace(dim, draws);
  const elbo = elboGradient(jsTarget, params, eps, draws, new Float64Array(params.size), work);
  // The entropy is a constant of q: the spread is ln p's.
  return { elbo, stdErr: meanAndError(work.lp).stdErr };
}

/** PyTorch's ELBO estimate and gradient against the JavaScript loop's, at the same theta and draws. */
async function torchDifference(torch, id, jsTarget, family, draws) {
  const dim = jsTarget.dim;
  const params = gaussianParams({ dim, family });
  gaussianStream(3).fill(params.theta);
  for (let i = 0; i < params.size; i++) params.theta[i] *= 0.1;
  const eps = gaussianStream(4).fill(new Float64Array(draws * dim));
  const g = new Float64Array(params.size);
  const elbo = elboGradient(jsTarget, params, eps, draws, g, elboWorkspace(dim, draws));
  const r = await torch.call(id, "gradient", {}, { theta: params.theta, eps: [eps, [draws, dim]] });
  return {
    elbo: Math.abs(r.elbo - elbo) / Math.abs(elbo),
    gradient: scaledDifference(r.arrays.gradient, g),
  };
}

/**
 * fn() of a fitVI contender: `steps` steps from q's start; the last step's ELBO estimate (with 0
 * steps, the final ELBO on the evaluation draws).
 */
function fitViCall(inst, target, { family, steps, samples, learningRate, seed }) {
  return async () => {
    const q = await inst.fitVI(target, {
      family,
      steps,
      samples,
      seed,
      optimizer: adam({ learningRate }),
      evaluationDraws: EVALUATION_DRAWS,
    });
    return q.history.length > 0 ? q.history[q.history.length - 1] : q.elbo;
  };
}

/**
 * Runs the suite. Options: the harness's { samples, targetMs, warmupMs, quick }; optionally families,
 * workload (overrides of VI_WORKLOAD: a smaller data set for tests), stepsPerCall, eightSchools
 * (false to leave it out), torch (PyTorch's contenders, suiteContenders() of
 * contenders/torch.mjs: the VI one is set up in its child), log, extraContenders(context). Returns
 * { suite, workloads, eightSchools, targets }.
 */
export async function vi(options) {
  const {
    samples,
    targetMs,
    warmupMs,
    quick = false,
    log = () => {},
    extraContenders,
    torch = null,
  } = options;
  const workload = { ...VI_WORKLOAD, ...options.workload };
  const families = options.families ?? workload.families;
  const stepsPerCall = options.stepsPerCall ?? (quick ? STEPS_PER_CALL.quick : STEPS_PER_CALL.full);
  const simd = createInstanceSync({ simd: true });
  const scalar = createInstanceSync({ simd: false });
  const data = viData(workload);
  const jsTarget = logisticRegressionTarget({ x: data.x, y: data.y, priorScale: workload.priorScale });
  const builtin = (inst) =>
    inst.targets.logisticRegression({
      x: data.x,
      y: data.y,
      priorScale: workload.priorScale,
      dim: data.features,
    });
  const simdTarget = builtin(simd);
  const scalarTarget = builtin(scalar);
  const call = { steps: stepsPerCall, samples: workload.draws, learningRate: workload.learningRate, seed: 1 };

  // The target check: q's start (0) and standard normal points of sd 0.5.
  const points = gaussianStream(7).fill(new Float64Array(8 * data.features));
  for (let i = 0; i < points.length; i++) points[i] *= i < data.features ? 0 : 0.5;
  const targetCheck = {
    simd: targetDifference(simdTarget, jsTarget, points, 8),
    scalar: targetDifference(scalarTarget, jsTarget, points, 8),
  };
  for (const [build, d] of Object.entries(targetCheck)) {
    if (!(d.value <= VI_TOLERANCE.target && d.gradient <= VI_TOLERANCE.target))
      throw new Error(
        `vi: klcore's built-in logistic target (${build}) differs from the JavaScript one: ln p by ${d.value}, ` +
          `gradient by ${d.gradient} (tolerance ${VI_TOLERANCE.target}): refusing to time it`,
      );
  }

  const workloads = [];
  for (const family of families) {
    const t0 = performance.now();
    const name = `vi logistic ${family}`;
    const js = jsViContender(data, family, workload);
    const contenders = [
      { name: JS_VI, kind: "js", fn: () => js.vi.run(stepsPerCall) },
      { name: KLCORE, kind: "klcore", fn: fitViCall(simd, simdTarget, { family, ...call }) },
      { name: KLCORE_SCALAR, kind: "klcore", fn: fitViCall(scalar, scalarTarget, { family, ...call }) },
    ];
    let torchCheck = null;
    if (torch) {
      const t = await torchViContender(torch.child, data, family, workload);
      // One call is stepsPerCall steps there too, timed by the child.
      const one = t.fn;
      contenders.push({
        ...t,
        fn: async () => {
          let v = 0;
          for (let s = 0; s < stepsPerCall; s++) v = await one();
          return v;
        },
        timed: (calls) => t.timed(calls * stepsPerCall),
      });
      torchCheck = await torchDifference(torch.child, t.id, jsTarget, family, workload.draws);
      if (!(torchCheck.elbo <= VI_TOLERANCE.torch && torchCheck.gradient <= VI_TOLERANCE.torch))
        throw new Error(
          `${name}: ${t.name}'s ELBO estimate and gradient differ from the JavaScript loop's by ` +
            `${torchCheck.elbo} and ${torchCheck.gradient} (tolerance ${VI_TOLERANCE.torch}): refusing to time it`,
        );
    }
    contenders.push(...(await extra(extraContenders, { suite: "vi", family, data, workload, stepsPerCall })));

    // fitVI's ELBO of q's start (0 steps), against the JavaScript estimator's on other draws.
    const evalDraws = quick ? 1024 : 4096;
    const ref = startElbo(jsTarget, family, evalDraws);
    const elboCheck = {};
    for (const [label, inst, target] of [
      [KLCORE, simd, simdTarget],
      [KLCORE_SCALAR, scalar, scalarTarget],
    ]) {
      const q = await inst.fitVI(target, { family, steps: 0, evaluationDraws: evalDraws, seed: 1 });
      const se = Math.hypot(q.elboStdErr, ref.stdErr);
      const off = Math.abs(q.elbo - ref.elbo) / se;
      if (!(off <= VI_TOLERANCE.elboStdErrs))
        throw new Error(
          `${name}: ${label}'s ELBO of q's start is ${q.elbo} ± ${q.elboStdErr}, the JavaScript estimator's ` +
            `${ref.elbo} ± ${ref.stdErr} (${off.toFixed(1)} standard errors apart): refusing to time it`,
        );
      elboCheck[label] = { elbo: q.elbo, stdErr: q.elboStdErr, standardErrorsApart: off };
    }
    elboCheck.reference = ref;

    // The value check: every contender's first call, a finite ELBO estimate.
    for (const c of contenders) {
      const v = await c.fn();
      if (!Number.isFinite(v)) throw new Error(`${name}: ${c.name} gave ELBO estimate ${v}`);
    }
    const result = await runWorkload({
      name,
      contenders,
      baseline: JS_VI,
      elements: stepsPerCall,
      samples,
      targetMs,
      warmupMs,
    });
    // fitVI's fixed cost per call: a call of 0 steps (validation, memory, the final diagnostics).
    const fixed = await runWorkload({
      name: `${name}, 0 steps`,
      contenders: [{ name: KLCORE, fn: fitViCall(simd, simdTarget, { family, ...call, steps: 0 }) }],
      baseline: KLCORE,
      samples,
      targetMs,
      warmupMs,
    });
    const rows = rowsOf(result, contenders).map((r) => ({
      ...r,
      usPerStep: r.nsPerElement.median / 1e3,
      stepsPerSecond: 1e9 / r.nsPerElement.median,
    }));
    workloads.push({
      family,
      rows: data.rows,
      features: data.features,
      draws: workload.draws,
      stepsPerCall,
      check: { target: targetCheck, elbo: elboCheck, torch: torchCheck },
      fixedCostNs: fixed.contenders[0].nsPerCall,
      contenders: rows,
      rounds: result.rounds,
    });
    await disposeAll(contenders);
    log(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  const eightSchools =
    options.eightSchools === false
      ? null
      : await eightSchoolsWorkload(simd, {
          samples,
          targetMs,
          warmupMs,
          stepsPerCall: EIGHT_SCHOOLS_STEPS_FACTOR * stepsPerCall,
          log,
        });
  return {
    suite: "vi",
    settings: { ...workload, families, stepsPerCall, evaluationDraws: EVALUATION_DRAWS },
    workloads,
    eightSchools,
    targets: targets(workloads),
  };
}

/**
 * Eight schools with the caller's JavaScript logDensity: fitVI on it, the same function alone on
 * as many draws (stepsPerCall x draws calls on fixed points, in a plain loop), and fitVI on the
 * built-in target for comparison. klcore's own time per draw is the same-round difference of the
 * first two, divided by the draws of a call (fitVI's fixed cost per call included, spread over
 * them; it is measured apart too).
 */
async function eightSchoolsWorkload(inst, { samples, targetMs, warmupMs, stepsPerCall, log }) {
  const t0 = performance.now();
  const spec = EIGHT_SCHOOLS;
  const user = eightSchoolsTarget(spec);
  const builtinTarget = inst.targets.hierarchicalNormal({
    y: spec.y,
    sigma: spec.sigma,
    muScale: spec.muScale,
    tauScale: spec.tauScale,
  });
  const dim = user.dim;
  const calls = stepsPerCall * spec.draws;
  const points = gaussianStream(11).fill(new Float64Array(calls * dim));
  const check = targetDifference(builtinTarget, user, points.subarray(0, 16 * dim), 16);
  if (!(check.value <= VI_TOLERANCE.target && check.gradient <= VI_TOLERANCE.target))
    throw new Error(
      `eight schools: the JavaScript logDensity differs from targets.hierarchicalNormal by ${check.value} ` +
        `(gradient ${check.gradient}): refusing to time it`,
    );
  const grad = new Float64Array(dim);
  const views = Array.from({ length: calls }, (_, k) => points.subarray(k * dim, (k + 1) * dim));
  const call = { family: "meanfield", steps: stepsPerCall, samples: spec.draws, learningRate: 0.01, seed: 1 };
  const contenders = [
    {
      name: USER_ALONE,
      kind: "js",
      fn: () => {
        let s = 0;
        for (let k = 0; k < calls; k++) s += user.logDensity(views[k], grad);
        return s;
      },
    },
    { name: KLCORE_USER, kind: "klcore", fn: fitViCall(inst, user, call) },
    { name: KLCORE_BUILTIN, kind: "klcore", fn: fitViCall(inst, builtinTarget, call) },
  ];
  const result = await runWorkload({
    name: "vi eight schools",
    contenders,
    baseline: USER_ALONE,
    elements: calls,
    samples,
    targetMs,
    warmupMs,
  });
  // fitVI's fixed cost per call on this target: a call of 0 steps.
  const fixed = await runWorkload({
    name: "vi eight schools, 0 steps",
    contenders: [{ name: KLCORE_USER, fn: fitViCall(inst, user, { ...call, steps: 0 }) }],
    baseline: KLCORE_USER,
    samples,
    targetMs,
    warmupMs,
  });
  const ia = 0;
  const ib = 1;
  const beyond = result.rounds.map((row) => (row[ib] - row[ia]) / calls);
  const share = result.rounds.map((row) => row[ia] / row[ib]);
  const sorted = (xs) => [...xs].sort((a, b) => a - b);
  const med = (xs) => {
    const s = sorted(xs);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  log(`  vi eight schools: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return {
    dim,
    draws: spec.draws,
    stepsPerCall,
    check,
    fixedCostNs: fixed.contenders[0].nsPerCall,
    contenders: rowsOf(result, contenders).map((r) => ({ ...r, nsPerDraw: r.nsPerElement })),
    // klcore's time per draw beyond the caller's function, and the function's share of fitVI's time.
    klcoreNsPerDraw: { median: med(beyond), min: Math.min(...beyond), max: Math.max(...beyond) },
    userShare: { median: med(share), min: Math.min(...share), max: Math.max(...share) },
    rounds: result.rounds,
  };
}

function targets(workloads) {
  const out = [];
  for (const w of workloads) {
    const k = find(w.contenders, KLCORE);
    const workload = `VI step, logistic regression ${w.rows}x${w.features}, ${w.family}`;
    out.push(
      verdict({
        id: `vi-${w.family}-vs-js`,
        description: `${workload}: klcore fitVI at least 5x the JS loop`,
        workload,
        contender: KLCORE,
        versus: JS_VI,
        value: k.speedupVsJs.median,
        threshold: TARGETS.vsJs,
      }),
      ...torchVerdict(w.contenders, { id: `vi-${w.family}-vs-torch`, workload, contender: KLCORE }),
    );
  }
  return out;
}
