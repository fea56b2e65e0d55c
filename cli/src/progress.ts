// Progress and number formatting for the commands' reports. The bar is drawn on stderr only when
// stderr is a terminal (redrawn in place with a carriage return); into a file or a pipe it would be
// noise, so there the per-epoch lines on stdout are the whole report.

export const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

export const fixed = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : String(v));

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export class ProgressBar {
  private drawn = false;
  private filled = -1;
  private at = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    readonly enabled: boolean = stream.isTTY === true,
  ) {}

  /** Redraws the bar at done/total: when it grows, and at most every 100 ms otherwise. */
  update(label: string, done: number, total: number, detail: string, width = 24): void {
    if (!this.enabled) return;
    const filled = Math.round((done / total) * width);
    const now = performance.now();
    if (filled === this.filled && now - this.at < 100) return;
    this.filled = filled;
    this.at = now;
    this.stream.write(`\r\x1b[K${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${detail}`);
    this.drawn = true;
  }

  /** Erases the bar, so the next line starts clean. */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write("\r\x1b[K");
    this.drawn = false;
    this.filled = -1;
  }
}
