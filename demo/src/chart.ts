// Line charts with uPlot (docs/demo.md says why uPlot): the data arrays grow as the worker's figures
// arrive, and the chart redraws at most once per animation frame, however many messages came.

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface LineChartOptions {
  title: string;
  xLabel: string;
  series: { label: string; color: string; scale?: string }[];
  /** Scales other than x: "log" for a log axis. */
  scales: Record<string, { log?: boolean; label: string; side?: "left" | "right"; range?: [number, number] }>;
  width: number;
  height: number;
}

/** A log axis's label: 0.01 as is, smaller or larger powers of ten as 1e-4, 1e3; none for null. */
const logLabel = (v: number | null): string =>
  v === null ? "" : v >= 0.001 && v <= 1000 ? String(Number(v.toPrecision(1))) : v.toExponential(0);

export class LineChart {
  readonly data: (number | null)[][];
  private readonly plot: uPlot;
  private pending = false;

  constructor(host: HTMLElement, o: LineChartOptions) {
    this.data = [[], ...o.series.map(() => [])];
    const scales: uPlot.Scales = { x: { time: false } };
    const axes: uPlot.Axis[] = [{ label: o.xLabel }];
    for (const [name, s] of Object.entries(o.scales)) {
      // A log scale over no data yet gets a range of its own: uPlot's log splits fail on none.
      scales[name] = s.log
        ? {
            distr: 3,
            range: (_: uPlot, min: number | null, max: number | null) =>
              min === null || max === null || !(min > 0) ? [0.001, 10] : uPlot.rangeLog(min, max, 10, true),
          }
        : s.range
          ? { range: s.range }
          : {};
      axes.push({
        scale: name,
        label: s.label,
        side: s.side === "right" ? 1 : 3,
        grid: { show: name === "y" },
        // uPlot's default labels round 1e-4 to "0" on a log axis.
        ...(s.log ? { values: (_: uPlot, splits: (number | null)[]) => splits.map(logLabel) } : {}),
      });
    }
    this.plot = new uPlot(
      {
        title: o.title,
        width: o.width,
        height: o.height,
        scales,
        axes,
        series: [
          { label: o.xLabel },
          ...o.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            scale: s.scale ?? "y",
            spanGaps: false,
          })),
        ],
        legend: { live: false },
        cursor: { show: false },
      },
      this.data as uPlot.AlignedData,
      host,
    );
  }

  /** Appends one x with its values (one per series). */
  push(x: number, values: (number | null)[]): void {
    this.data[0]!.push(x);
    values.forEach((v, i) => this.data[i + 1]!.push(v));
    this.schedule();
  }

  clear(): void {
    for (const column of this.data) column.length = 0;
    this.schedule();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot.setData(this.data as uPlot.AlignedData);
    });
  }

  destroy(): void {
    this.plot.destroy();
  }
}
