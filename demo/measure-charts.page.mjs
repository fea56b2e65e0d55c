// The page of demo/measure-charts.mjs: streams points into a chart of each candidate library at
// about 100 updates a second and times each update until the chart has redrawn.

/* global queueMicrotask */
import uPlot from "uplot";
import * as vega from "vega";
import { compile } from "vega-lite";

const SERIES = ["kl", "mse", "l1", "js"];
const WIDTH = 640;
const HEIGHT = 300;

/** A KL-like curve per series: falling on a log scale, a little noise. */
const value = (s, step) => Math.exp(-step / (300 + 200 * s)) * (1 + 0.05 * Math.sin(step * (s + 1))) + 1e-6;

const host = () => {
  const div = document.createElement("div");
  document.body.append(div);
  return div;
};

const candidates = {
  async uplot(prefill) {
    const data = [[], ...SERIES.map(() => [])];
    const push = (step) => {
      data[0].push(step);
      SERIES.forEach((_, s) => data[s + 1].push(value(s, step)));
    };
    for (let i = 0; i < prefill; i++) push(i);
    const plot = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        scales: { x: { time: false }, y: { distr: 3 } },
        series: [
          {},
          ...SERIES.map((label, i) => ({
            label,
            stroke: ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"][i],
            width: 2,
          })),
        ],
        legend: { live: false },
        cursor: { show: false },
      },
      data,
      host(),
    );
    return {
      // setData draws in a microtask it queues; the one queued after it runs once the chart is drawn.
      update: async (step) => {
        push(step);
        plot.setData(data);
        await new Promise((r) => queueMicrotask(r));
      },
      destroy: () => plot.destroy(),
    };
  },

  async vega(prefill) {
    const rows = [];
    for (let i = 0; i < prefill; i++)
      SERIES.forEach((loss, s) => rows.push({ step: i, loss, kl: value(s, i) }));
    const spec = compile({
      width: WIDTH,
      height: HEIGHT,
      data: { name: "points", values: [] },
      mark: { type: "line" },
      encoding: {
        x: { field: "step", type: "quantitative" },
        y: { field: "kl", type: "quantitative", scale: { type: "log" } },
        color: { field: "loss", type: "nominal" },
      },
    }).spec;
    const view = new vega.View(vega.parse(spec), { renderer: "canvas", container: host() });
    await view.change("points", vega.changeset().insert(rows)).runAsync();
    return {
      // The streaming changeset vega-embed's users send: insert the new points, run the dataflow.
      update: async (step) => {
        const next = SERIES.map((loss, s) => ({ step, loss, kl: value(s, step) }));
        await view.change("points", vega.changeset().insert(next)).runAsync();
      },
      destroy: () => view.finalize(),
    };
  },
};

/** Streams `updates` updates at `perSecond`; the time of each from its call to the chart's redraw. */
async function measure(name, { prefill, updates, perSecond }) {
  const chart = await candidates[name](prefill);
  const times = [];
  const started = performance.now();
  for (let i = 0; i < updates; i++) {
    const due = started + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // The next frame's paint is the browser's; the script's share is what the update costs here.
    const t0 = performance.now();
    await chart.update(prefill + i);
    times.push(performance.now() - t0);
  }
  const elapsed = performance.now() - started;
  chart.destroy();
  return { name, prefill, updates, perSecond, elapsedMs: elapsed, times };
}

/** Whether the library builds its chart under the page's policy (no 'unsafe-eval'). */
async function underPolicy(name) {
  try {
    const chart = await candidates[name](10);
    await chart.update(10);
    chart.destroy();
    return { name, ok: true };
  } catch (e) {
    return { name, ok: false, error: `${e.name}: ${e.message}` };
  }
}

globalThis.measureCharts = { measure, underPolicy };
