// The markdown report of a benchmark run, from the object bench/run.mjs writes to latest.json.

const sig = (x) =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);
export const times = (x) =>
  x >= 100 ? `${x.toFixed(0)}x` : x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`;
const pct = (r) => `${r >= 1 ? "+" : ""}${((r - 1) * 100).toFixed(1)}%`;
export const exp10 = (n) => `1e${Math.round(Math.log10(n))}`;
export const short = (dtype) => (dtype === "float32" ? "f32" : "f64");
export const perCall = (ns) =>
  ns >= 1e9
    ? `${(ns / 1e9).toFixed(2)} s`
    : ns >= 1e6
      ? `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : ns >= 1e7 ? 1 : 2)} ms`
      : `${(ns / 1e3).toFixed(ns >= 1e4 ? 0 : 1)} µs`;
const gib = (b) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** A relative error for a table cell: 0, NaN shown as a failure, else two digits. */
export function error(e, known) {
  // JSON carries NaN as null: a known-NaN contender's null is its NaN.
  if ((e === null || e === undefined) && known === "nan") return "NaN (fails)";
  if (e === null || e === undefined) return "";
  if (Number.isNaN(e)) return "NaN (fails)";
  const text = e === 0 ? "0" : e.toExponential(1);
  return known === "clips" ? `${text} (clips)` : text;
}

/** "met (12.3x)" or "missed by 8% (8.3x)". */
export function verdictText(t) {
  const value = t.atMost ? pct(t.value) : times(t.value);
  if (t.met) return `**met** (${value})`;
  const by = t.atMost
    ? `${((t.value - t.threshold) * 100).toFixed(1)} points`
    : `${(t.shortfall * 100).toFixed(0)}%`;
  return `**missed** by ${by} (${value})`;
}

export const thresholdText = (t) => (t.atMost ? `<= ${pct(t.threshold)}` : `>= ${times(t.threshold)}`);

export function machineLine(m) {
  if (m.chromium) {
    return (
      `${m.cpu}, ${m.cores} cores, ${gib(m.totalMemoryBytes)}; headless Chromium ${m.chromium} (V8 ${m.v8}), ` +
      `${m.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated"}, ` +
      `performance.now() step ${(m.timerResolutionMs * 1000).toFixed(0)} µs; ${m.date}; ` +
      `commit ${m.commit ? m.commit.slice(0, 12) : "unknown"}${m.dirty ? " (with uncommitted changes)" : ""}`
    );
  }
  return (
    `${m.cpu}, ${m.cores} cores, ${gib(m.totalMemoryBytes)}; Node ${m.node} (V8 ${m.v8}); ` +
    `${m.date}; commit ${m.commit ? m.commit.slice(0, 12) : "unknown"}` +
    `${m.dirty ? " (with uncommitted changes)" : ""}`
  );
}

const vs = (s) => (s ? times(s.median) : "");
// The PyTorch row's own "vs PyTorch" cell is 1 by definition.
const vsTorch = (c) => (c.kind === "torch" ? "1" : vs(c.speedupVsTorch));

/** The BLAS PyTorch loaded, by its library's file name ("libopenblas.so.0 (openblas-serial)"). */
function blasText(blas) {
  if (!Array.isArray(blas) || blas.length === 0) return "";
  const names = blas.map((p) => {
    const parts = p.split("/");
    return parts.length > 1 ? `${parts.at(-1)} (${parts.at(-2)})` : p;
  });
  return `, BLAS ${names.join(", ")}`;
}

/** "PyTorch 2.x CPU on N thread(s), klcore on 1", or why PyTorch did not run. */
export function torchText(peers) {
  const t = peers?.torch;
  if (!t) return null;
  if (t.skipped) return `PyTorch skipped (${t.skipped}): its rows and verdicts are left out`;
  return (
    `PyTorch ${t.version} CPU on ${t.threads} thread${t.threads === 1 ? "" : "s"} ` +
    `(torch.set_num_threads(${t.threadsAsked}), interop ${t.interopThreads}${blasText(t.blas)}), klcore on ${peers.klcoreThreads ?? 1}`
  );
}

function divergenceTables(suite, lines) {
  lines.push("## Divergences: time per element, speed-up, accuracy");
  lines.push("");
  lines.push(
    "Speed-ups are time(other) / time(contender) (> 1 = the contender is faster), medians of same-round " +
      "ratios. Relative error is against a float64 reference with compensated summation on the same inputs.",
  );
  lines.push("");
  lines.push(
    "| workload | contender | median ns/elem | min | max | per call | vs JS | vs TF.js wasm | vs PyTorch | rel. error |",
  );
  lines.push("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
  for (const w of suite.workloads) {
    const label = `${w.kernel} ${short(w.dtype)} n=${exp10(w.n)}`;
    for (const c of w.contenders) {
      const e = c.nsPerElement;
      lines.push(
        `| ${label} | ${c.contender} | ${sig(e.median)} | ${sig(e.min)} | ${sig(e.max)} | ${perCall(c.nsPerCall.median)} | ` +
          `${c.contender === "JS loop" ? "1" : vs(c.speedupVsJs)} | ${vs(c.speedupVsTfWasm)} | ${vsTorch(c)} | ${error(c.relativeError, c.known)} |`,
      );
    }
  }
  const kl = suite.workloads.filter((w) => w.validationOverhead);
  if (kl.length > 0) {
    lines.push("");
    lines.push("### kl: validation overhead (validated / validate: false, same rounds, median)");
    lines.push("");
    lines.push("| workload | klcore SIMD | SIMD, zero-copy |");
    lines.push("|---|--:|--:|");
    for (const w of kl) {
      lines.push(
        `| ${short(w.dtype)} n=${exp10(w.n)} | ${pct(w.validationOverhead.simd.median)} | ${pct(w.validationOverhead.zeroCopy.median)} |`,
      );
    }
    lines.push("");
    lines.push("### kl: zero-copy inputs (time copying / time zero-copy, klcore SIMD, same rounds, median)");
    lines.push("");
    lines.push("| workload | validated | validate: false |");
    lines.push("|---|--:|--:|");
    for (const w of kl) {
      lines.push(
        `| ${short(w.dtype)} n=${exp10(w.n)} | ${times(w.zeroCopyGain.validated.median)} | ${times(w.zeroCopyGain.unvalidated.median)} |`,
      );
    }
  }
  lines.push("");
}

function xentTable(suite, lines) {
  lines.push("## crossEntropyWithLogits with its gradient");
  lines.push("");
  lines.push(
    "Class-index targets, mean over the rows, gradient into a preallocated buffer (TF.js: tf.valueAndGrad of " +
      "tf.losses.softmaxCrossEntropy, both read back with dataSync). Gradient error: max |g - ref| / max |ref|.",
  );
  lines.push("");
  lines.push(
    "| batch | contender | median µs | min | max | vs JS | vs TF.js wasm | vs PyTorch | loss rel. error | gradient error |",
  );
  lines.push("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
  const us = (ns) => (ns / 1e3).toFixed(ns >= 1e5 ? 0 : 1);
  for (const w of suite.workloads) {
    const label = `${short(w.dtype)} ${w.rows}x${w.classes}`;
    for (const c of w.contenders) {
      lines.push(
        `| ${label} | ${c.contender} | ${us(c.nsPerCall.median)} | ${us(c.nsPerCall.min)} | ${us(c.nsPerCall.max)} | ` +
          `${c.contender === "JS loop" ? "1" : vs(c.speedupVsJs)} | ${vs(c.speedupVsTfWasm)} | ${vsTorch(c)} | ${error(c.relativeError)} | ${error(c.gradientError)} |`,
      );
    }
  }
  lines.push("");
}

function trainTable(suite, lines) {
  const s = suite.settings;
  lines.push("## One training epoch");
  lines.push("");
  lines.push(
    `${s.samples.toLocaleString("en-US")} samples x ${s.inputs} inputs, ${s.classes} classes, batch ${s.batchSize}, ` +
      `Adam lr ${s.learningRate}; ${s.epochsPerContender} epochs per contender after a warm-up epoch, round-robin. ` +
      "Accuracy: after the first (checked) epoch from the same weights on the same batches, the loss sum's relative " +
      "difference and the largest parameter difference (relative to each array's scale) against the JS float32 loop.",
  );
  lines.push("");
  lines.push(
    "| model | contender | samples/s | epoch ms (median) | min | max | vs JS | vs TF.js wasm | vs PyTorch | loss sum vs JS | parameters vs JS |",
  );
  lines.push("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
  const ms = (ns) => (ns / 1e6).toFixed(ns >= 1e8 ? 0 : 1);
  for (const w of suite.workloads) {
    for (const c of w.contenders) {
      lines.push(
        `| ${w.model} | ${c.contender} | ${Math.round(c.samplesPerSecond).toLocaleString("en-US")} | ${ms(c.nsPerCall.median)} | ` +
          `${ms(c.nsPerCall.min)} | ${ms(c.nsPerCall.max)} | ${c.contender === "JS loop" ? "1" : vs(c.speedupVsJs)} | ` +
          `${vs(c.speedupVsTfWasm)} | ${vsTorch(c)} | ${error(c.lossRelativeDifference)} | ${error(c.parameterDifference)} |`,
      );
    }
  }
  lines.push("");
}

function fitTable(suite, lines) {
  const s = suite.settings;
  lines.push("## fit() against the same loop by hand");
  lines.push("");
  lines.push(
    `One epoch per call, the training workload (${s.samples.toLocaleString("en-US")} samples x ${s.inputs} inputs, ` +
      `batch ${s.batchSize}, Adam lr ${s.learningRate}, cross-entropy); ${s.epochsPerContender} epochs per contender ` +
      "after a warm-up epoch, round-robin. fit() pays its checks of the options and targets once per call, the check " +
      "of x, the divergence guard and the accuracy count per batch, and a yield to the event loop after the first " +
      "batch and every 16 ms; its parameters equal the hand " +
      "loop's bit for bit after the first epoch and after timing. Ratio: the median of same-round ratios of fit's time to the loop's.",
  );
  lines.push("");
  lines.push("| model | loop by hand, ms (median) | fit(), ms (median) | fit / loop (median) | min | max |");
  lines.push("|---|--:|--:|--:|--:|--:|");
  for (const w of suite.workloads) {
    lines.push(
      `| ${w.model} | ${w.handMs.toFixed(1)} | ${w.fitMs.toFixed(1)} | ${w.ratio.median.toFixed(3)} | ` +
        `${w.ratio.min.toFixed(3)} | ${w.ratio.max.toFixed(3)} |`,
    );
  }
  lines.push("");
}

function workersTable(suite, lines) {
  const s = suite.settings;
  lines.push("## fit() in workers: samples per second and the scaling curve");
  lines.push("");
  lines.push(
    `One epoch, MLP 784-128-10 ReLU on ${s.samples.toLocaleString("en-US")} samples x ${s.inputs} inputs, Adam lr ` +
      `${s.learningRate}, cross-entropy; ${s.cores} cores; ${s.rounds} rounds, each a fit() of ${s.epochsPerCall} ` +
      "epochs per contender, round-robin; an epoch's time from fit's history (the pool's start per fit call apart). " +
      "Speed-ups: medians of same-round ratios. The worker contenders' parameters are the same bits after the rounds.",
  );
  lines.push("");
  lines.push(
    "| batch | contender | samples/s | epoch ms (median) | min | max | vs 1 worker | vs one thread | pool start, ms |",
  );
  lines.push("|--:|---|--:|--:|--:|--:|--:|--:|--:|");
  for (const w of suite.workloads) {
    for (const r of w.contenders) {
      lines.push(
        `| ${w.batchSize} | ${r.contender} | ${Math.round(r.samplesPerSecond).toLocaleString("en-US")} | ` +
          `${r.epochMs.median.toFixed(1)} | ${r.epochMs.min.toFixed(1)} | ${r.epochMs.max.toFixed(1)} | ` +
          `${r.speedupVsOneWorker.toFixed(2)}x | ${r.speedupVsOneThread.toFixed(2)}x | ${r.poolStartMs.toFixed(1)} |`,
      );
    }
  }
  lines.push("");
}

function viTables(suite, lines) {
  const s = suite.settings;
  lines.push("## Variational inference: steps per second");
  lines.push("");
  lines.push(
    `Bayesian logistic regression, ${s.rows.toLocaleString("en-US")} rows x ${s.features} features, ${s.draws} draws ` +
      `per step, Adam lr ${s.learningRate}; a call is ${s.stepsPerCall} steps (klcore: one \`fitVI\` call on ` +
      `\`targets.logisticRegression\`, evaluationDraws ${s.evaluationDraws}, starting again from q's start; the JS loop ` +
      "and PyTorch float64 with autograd continue from their last step). Speed-ups are same-round ratios. Checked " +
      "before timing: the built-in target's ln p and gradient against the JS target's, fitVI's ELBO of q's start " +
      "against the JS estimator's, PyTorch's ELBO estimate and gradient against the JS loop's at the same draws.",
  );
  lines.push("");
  lines.push("| family | contender | µs per step | min | max | steps/s | vs JS | vs PyTorch |");
  lines.push("|---|---|--:|--:|--:|--:|--:|--:|");
  const us = (ns) => (ns / 1e3).toFixed(ns >= 1e5 ? 0 : 1);
  for (const w of suite.workloads) {
    for (const c of w.contenders) {
      const e = c.nsPerElement;
      lines.push(
        `| ${w.family} | ${c.contender} | ${us(e.median)} | ${us(e.min)} | ${us(e.max)} | ` +
          `${Math.round(c.stepsPerSecond).toLocaleString("en-US")} | ${c.contender === "JS loop" ? "1" : vs(c.speedupVsJs)} | ${vsTorch(c)} |`,
      );
    }
  }
  lines.push("");
  for (const w of suite.workloads) {
    const k = w.contenders.find((c) => c.contender === "klcore fitVI");
    const fixed = w.fixedCostNs.median;
    lines.push(
      `- ${w.family}: a \`fitVI\` call of 0 steps (its fixed cost: validation, memory, the final diagnostics) took ` +
        `${perCall(fixed)}, ${((100 * fixed) / k.nsPerCall.median).toFixed(1)}% of a call of ${w.stepsPerCall} steps.`,
    );
  }
  const e = suite.eightSchools;
  if (e) {
    lines.push("");
    lines.push(
      `### Eight schools with a JavaScript logDensity (${e.dim} parameters, ${e.draws} draws per step, ${e.stepsPerCall} steps per call)`,
    );
    lines.push("");
    lines.push("| contender | ns per draw | min | max |");
    lines.push("|---|--:|--:|--:|");
    for (const c of e.contenders) {
      lines.push(
        `| ${c.contender} | ${sig(c.nsPerDraw.median)} | ${sig(c.nsPerDraw.min)} | ${sig(c.nsPerDraw.max)} |`,
      );
    }
    lines.push("");
    lines.push(
      `klcore's own time per draw beyond the caller's function (fitVI on it minus the function alone on as many ` +
        `draws, same rounds): ${sig(e.klcoreNsPerDraw.median)} ns (median; ${sig(e.klcoreNsPerDraw.min)} to ` +
        `${sig(e.klcoreNsPerDraw.max)}); the function was ${(100 * e.userShare.median).toFixed(1)}% of fitVI's time. ` +
        `A call of 0 steps (fitVI's fixed cost, included above) took ${perCall(e.fixedCostNs.median)}, ` +
        `${sig(e.fixedCostNs.median / (e.stepsPerCall * e.draws))} ns per draw of a ${e.stepsPerCall}-step call.`,
    );
  }
  lines.push("");
}

function relaxedTable(r, lines) {
  lines.push("## Relaxed SIMD: the dense kernels with FMA (not shipped)");
  lines.push("");
  lines.push(
    `One dense layer ${r.rows}x${r.inputs} -> ${r.outputs} (an MLP 784-128-10's first layer, batch ${r.rows}), two builds ` +
      "of `assembly/` that differ only in the dense kernels' multiply-add: `f32x4.add(acc, f32x4.mul(a, b))` (shipped) " +
      `and \`f32x4.relaxed_madd(a, b, acc)\`; medians of ${r.rounds} alternating rounds of ${r.calls} calls ` +
      "(`scripts/measure/measure-relaxed.mjs` runs the same comparison in Node with its flag).",
  );
  lines.push("");
  lines.push("| pass | add(mul) ms | relaxed_madd ms | speed-up |");
  lines.push("|---|--:|--:|--:|");
  for (const op of ["forward", "backward"]) {
    const d = r[op];
    lines.push(`| ${op} | ${d.shippedMs.toFixed(3)} | ${d.relaxedMs.toFixed(3)} | ${times(d.speedup)} |`);
  }
  lines.push("");
  lines.push(
    `The outputs differ by up to ${r.drift.y.toExponential(1)} (y) and ${r.drift.dw.toExponential(1)} (dW) of their ` +
      "largest value: FMA rounds once where add(mul) rounds twice.",
  );
  lines.push("");
}

function browserNotes(run, lines) {
  const m = run.machine;
  const p = run.peers;
  lines.push(
    `- The page ran in headless Chromium ${m.chromium} on the same machine, driven by playwright-core from Node ` +
      `${m.runner.node}; every suite, contender and the harness (mitata's \`measure()\`) ran inside the page, and klcore ` +
      "came from `dist/klcore.browser.js` (the file the package's `browser` condition gives bundlers).",
  );
  lines.push(
    `- The page was ${m.crossOriginIsolated ? "" : "not "}cross-origin isolated (COOP and COEP headers) so that ` +
      `performance.now() steps by ${(m.timerResolutionMs * 1000).toFixed(0)} µs (100 µs without isolation). TF.js's wasm ` +
      `backend was kept single-threaded, as klcore is: the page fetched \`${p.tfjsWasmBinary}\` (SIMD ` +
      `${p.tfjsWasmSimd}, threads ${p.tfjsWasmThreads}).`,
  );
}

/** The whole report. */
export function markdown(run) {
  const m = run.machine;
  const o = run.settings;
  const lines = [m.chromium ? "# klcore benchmark in Chromium" : "# klcore benchmark", ""];
  lines.push(`${machineLine(m)}.`);
  if (m.chromium) lines.push(`userAgent: \`${m.userAgent}\`.`);
  lines.push(
    `${o.samples} samples per contender (training: ${o.trainSamples} epochs), round-robin, each >= ${o.targetMs} ms; ` +
      `load average ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(" ")} at start, ` +
      `${m.loadAverageAtEnd.map((x) => x.toFixed(2)).join(" ")} at end; ${(run.durationSeconds / 60).toFixed(1)} min` +
      `${o.quick ? "; QUICK smoke run, not for comparison" : ""}.`,
  );
  lines.push("");
  if (run.targets.length > 0) {
    lines.push("## Targets");
    lines.push("");
    lines.push("| target | required | result |");
    lines.push("|---|--:|---|");
    for (const t of run.targets) {
      const extra = t.zeroCopyValue !== undefined ? `; zero-copy ${times(t.zeroCopyValue)}` : "";
      const where = t.atMost ? `; worst at ${t.workload.replace(/^kl /, "")}` : "";
      lines.push(`| ${t.description} | ${thresholdText(t)} | ${verdictText(t)}${extra}${where} |`);
    }
    lines.push("");
    lines.push(
      "Speed-up verdicts are for the default call (validated, inputs copied into wasm memory); the zero-copy " +
        "figure (inputs already in a `WasmArray`) is shown beside them. Computed from this run: they can change " +
        "from one run to the next.",
    );
    lines.push("");
  }
  if (run.suites.divergences) divergenceTables(run.suites.divergences, lines);
  if (run.suites.xent) xentTable(run.suites.xent, lines);
  if (run.suites.train) trainTable(run.suites.train, lines);
  if (run.suites.fit) fitTable(run.suites.fit, lines);
  if (run.suites.workers) workersTable(run.suites.workers, lines);
  if (run.suites.vi) viTables(run.suites.vi, lines);
  if (run.relaxedSimd) relaxedTable(run.relaxedSimd, lines);
  lines.push("## Notes");
  lines.push("");
  if (m.chromium) browserNotes(run, lines);
  const torch = torchText(run.peers);
  if (torch && run.peers.torch.skipped) lines.push(`- ${torch}.`);
  else if (torch) {
    lines.push(
      `- ${torch}. PyTorch runs in a child process (\`bench/contenders/torch.mjs\`) that times its own calls, its ` +
        "samples taken in the same round-robin as the others'; its values are checked as the others' are, float32 " +
        "sums within 1e-5 of the float64 reference (its reductions sum float32 in float32), float64 within 1e-10.",
    );
  }
  lines.push(
    "- TF.js has no float64: on float64 workloads its inputs are rounded to float32 once, before timing, and its " +
      "relative error shows that rounding and its float32 arithmetic.",
  );
  lines.push(
    "- TF.js's built-in KL (the Keras loss `kullbackLeiblerDivergence`) clips p and q to [1e-7, 1] inside the log: " +
      "its error grows with n, as more entries fall below 1e-7. It is shown, not checked.",
  );
  lines.push(
    "- ml-distance's `kullbackLeibler` and `jensenShannon` return NaN when p (or q) has a zero (0 * ln 0), as " +
      "these inputs do (about 10% zeros in p): their timing is real, their value is not usable.",
  );
  lines.push(
    `- Timings come from a shared machine (${m.cores} cores, other processes may run): compare ratios taken in ` +
      "one run, and runs with each other only loosely.",
  );
  return lines.join("\n") + "\n";
}
