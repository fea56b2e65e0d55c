// The loss comparison's chart: a vega-lite spec (KL to the target against step, log scale, one
// line per loss, a panel per task) rendered to SVG by vega in Node. The spec is written beside the
// SVG, so a browser (vega-embed) can draw the same chart. vega and vega-lite are loaded only here,
// when a chart is made, so the other commands start without them.

import type { TopLevelSpec } from "vega-lite";

export interface ChartPanel {
  id: string;
  title: string;
  xTitle: string;
  /** The KL threshold of the task, drawn as a dashed rule. */
  threshold: number;
}

export interface ChartPoint {
  panel: string;
  loss: string;
  x: number;
  kl: number;
}

/** KL values below this are drawn at it: a log scale has no 0, and float32 training ends near 1e-7. */
export const KL_FLOOR = 1e-8;

export function chartSpec(
  panels: readonly ChartPanel[],
  points: readonly ChartPoint[],
  losses: readonly string[],
): TopLevelSpec {
  const values = points
    .filter((p) => Number.isFinite(p.kl))
    .map((p) => ({ ...p, kl: Math.max(p.kl, KL_FLOOR) }));
  const yTitle = "KL(target || model), nats (log scale)";
  const color = {
    field: "loss",
    type: "nominal" as const,
    title: "loss optimised",
    scale: { domain: [...losses] },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "KL from the target to the model during training, by the loss optimised",
      anchor: "start",
    },
    data: { values },
    columns: 2,
    concat: panels.map((p) => ({
      title: p.title,
      width: 340,
      height: 220,
      layer: [
        {
          transform: [{ filter: { field: "panel", equal: p.id } }],
          mark: { type: "line", strokeWidth: 1.75 },
          encoding: {
            x: { field: "x", type: "quantitative", title: p.xTitle, axis: { tickMinStep: 1 } },
            y: {
              field: "kl",
              type: "quantitative",
              scale: { type: "log" },
              title: yTitle,
              // Labels at the powers of ten only: 1e-7 ... 0.001, 0.01, 0.1, 1, 10.
              axis: {
                labelExpr:
                  "substring(format(datum.value, '.0e'), 0, 1) === '1' ? " +
                  "(datum.value >= 0.001 ? format(datum.value, '~g') : format(datum.value, '.0e')) : ''",
              },
            },
            color,
          },
        },
        {
          data: { values: [{ threshold: p.threshold }] },
          mark: { type: "rule", strokeDash: [4, 4], color: "#888" },
          encoding: { y: { field: "threshold", type: "quantitative", title: yTitle } },
        },
      ],
    })),
  };
}

/** The spec drawn as an SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function chartVersions(): Promise<{ vega: string; vegaLite: string }> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  return { vega: vega.version, vegaLite: vegaLite.version };
}
