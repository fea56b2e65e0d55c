// The demo page: three panels, each with its own training worker. The main thread only reads the
// controls, keeps the URL, draws the charts and canvases and forwards the buttons to the workers.

import "./style.css";
import { LineChart } from "./chart.js";
import { downsample, drawDigit, INK } from "./digit.js";
import type { FromWorker, ToWorker } from "./protocol.js";
import { formatSettings, parseSettings, type Settings } from "./state.js";
import { CENTRE, target2D, VIEW, type TargetName } from "./targets.js";
import { ellipseOf } from "./ellipse.js";

/** What the page shows, for a reader of the DOM (and the tests): figures too long for attributes. */
interface Exposed {
  /** When the page's own timer fired (performance.now(), ms). */
  ticks: number[];
  kl: { x: number[]; values: (number | null)[][]; rates: number[] };
  digits: { epochs: Extract<FromWorker, { type: "digits-epoch" }>[]; heldOut: number[] };
  /** Per frame, the chosen family's q and the other's; each step's objective for both. */
  vi: {
    frames: {
      step: number;
      mean: number[];
      covariance: number[];
      other: { mean: number[]; covariance: number[] };
    }[];
    objective: number[];
    otherObjective: number[];
  };
}
const exposed: Exposed = {
  ticks: [],
  kl: { x: [], values: [], rates: [] },
  digits: { epochs: [], heldOut: [] },
  vi: { frames: [], objective: [], otherObjective: [] },
};
(globalThis as unknown as { klcoreDemo: Exposed }).klcoreDemo = exposed;

const $ = <T extends HTMLElement = HTMLElement>(selector: string): T => {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`no element ${selector}`);
  return el;
};

// ---- the URL: the panels' settings ----

let settings: Settings = parseSettings(location.search);

type PanelName = keyof Settings;

/** Shows the settings in the controls. */
function showSettings(panel: PanelName): void {
  for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>(
    `[data-panel="${panel}"]`,
  )) {
    const v = (settings[panel] as unknown as Record<string, unknown>)[el.dataset.key!];
    el.value = v === null ? "tuned" : String(v);
  }
}

/** The controls' values into the URL (history.replaceState), then the settings read back from it. */
function storeSettings(panel: PanelName): void {
  const q = new URLSearchParams(location.search);
  const next: Record<string, string> = {};
  for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>(
    `[data-panel="${panel}"]`,
  )) {
    next[el.dataset.key!] = el.value;
  }
  // Parse what the controls say through the same path as a URL: one set of checks.
  const prefix = { kl: "kl", digits: "dg", vi: "vi" }[panel];
  const names: Record<string, string> = { optimizer: "opt", direction: "dir" };
  for (const [key, value] of Object.entries(next)) q.set(`${prefix}.${names[key] ?? key}`, value);
  const parsed = parseSettings(`?${q.toString()}`);
  const all = { ...parseSettings(location.search), [panel]: parsed[panel] };
  history.replaceState(null, "", `${location.pathname}${formatSettings(all)}`);
  settings = parseSettings(location.search);
}

// ---- a panel: its worker, its buttons and its status ----

abstract class Panel {
  protected worker: Worker | null = null;
  readonly root: HTMLElement;

  constructor(readonly name: PanelName) {
    this.root = $(`#${name}`);
    for (const action of ["play", "pause", "step"] as const) {
      this.root
        .querySelector(`[data-action="${action}"]`)!
        .addEventListener("click", () => this.send({ type: action }));
    }
    this.root.querySelector('[data-action="reset"]')!.addEventListener("click", () => this.reset());
    for (const el of this.root.querySelectorAll<HTMLElement>(`[data-panel="${name}"]`)) {
      el.addEventListener("change", () => {
        storeSettings(name);
        this.reset();
      });
    }
  }

  protected send(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  protected status(text: string): void {
    this.root.dataset.status = text;
    this.root.querySelector(".status")!.textContent = text;
  }

  /** Starts over from the settings in the URL. */
  reset(): void {
    this.worker?.terminate();
    settings = parseSettings(location.search);
    showSettings(this.name);
    this.clear();
    this.status("paused");
    const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
      if (data.type === "status") this.status(data.detail ? `${data.status}: ${data.detail}` : data.status);
      else if (data.type === "error") {
        this.status(`error: ${data.message}`);
        console.error(`${this.name}: ${data.message}`);
      } else this.receive(data);
    };
    worker.onerror = (e) => {
      this.status(`error: ${e.message}`);
      console.error(`${this.name} worker: ${e.message}`);
    };
    this.worker = worker;
    this.start();
  }

  protected abstract clear(): void;
  protected abstract start(): void;
  protected abstract receive(message: FromWorker): void;
}

/** The brush, as a fraction of the canvas width: about the pen of the 32 x 32 originals. */
const BRUSH = 0.11;

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
const LOSS_NAMES: Record<string, string> = { kl: "KL", mse: "MSE", l1: "L1", js: "Jensen-Shannon" };
/** KL below this is float32's floor on these tasks: the chart's log axis stops there. */
const KL_FLOOR = 1e-7;

// ---- panel 1: why KL ----

class KlPanel extends Panel {
  private chart: LineChart | null = null;

  constructor() {
    super("kl");
  }

  protected clear(): void {
    this.chart?.destroy();
    this.chart = null;
    exposed.kl = { x: [], values: [], rates: [] };
    this.root.querySelector(".rates")!.textContent = "";
  }

  protected start(): void {
    this.send({ type: "start", panel: "kl", settings: settings.kl });
  }

  protected receive(m: FromWorker): void {
    if (m.type === "kl-setup") {
      exposed.kl.values = m.losses.map(() => []);
      exposed.kl.rates = m.rates;
      this.root.querySelector(".rates")!.textContent =
        `learning rates: ${m.losses.map((l, i) => `${LOSS_NAMES[l]} ${m.rates[i]}`).join(", ")}` +
        (settings.kl.lr === null
          ? settings.kl.target === "zipf"
            ? ` (each the loss comparison's choice for ${settings.kl.optimizer === "sgd" ? "SGD" : "Adam"})`
            : " (each the loss comparison's choice, which tuned the digits with Adam)"
          : "");
      this.chart = new LineChart(this.root.querySelector(".chart")!, {
        title:
          settings.kl.target === "zipf"
            ? "KL(target || model), Zipf target over 1,000 classes"
            : "held-out KL, digits, softmax regression",
        xLabel: m.xLabel,
        series: m.losses.map((l, i) => ({ label: `trained on ${LOSS_NAMES[l]}`, color: COLORS[i]! })),
        scales: { y: { log: true, label: "KL (nats)" } },
        width: 640,
        height: 300,
      });
    } else if (m.type === "kl-points") {
      m.x.forEach((x, j) => {
        const values = m.values.map((v) => v[j] ?? null);
        exposed.kl.x.push(x);
        values.forEach((v, i) => exposed.kl.values[i]!.push(v));
        this.chart?.push(
          x,
          values.map((v) => (v === null ? null : Math.max(v, KL_FLOOR))),
        );
      });
      this.root.dataset.step = String(m.x.at(-1));
    }
  }
}

// ---- panel 2: the digits ----

class DigitsPanel extends Panel {
  private chart: LineChart | null = null;
  private readonly canvas = $<HTMLCanvasElement>("#digit-canvas");
  private readonly preview = $<HTMLCanvasElement>("#digit-preview");
  private readonly bars = $("#digit-bars");
  private request = 0;
  private drawing = false;
  private last: [number, number] | null = null;

  constructor() {
    super("digits");
    const ctx = this.canvas.getContext("2d", { willReadFrequently: true })!;
    const at = (e: PointerEvent): [number, number] => {
      const r = this.canvas.getBoundingClientRect();
      return [
        ((e.clientX - r.left) * this.canvas.width) / r.width,
        ((e.clientY - r.top) * this.canvas.height) / r.height,
      ];
    };
    const paint = (from: [number, number], to: [number, number]): void => {
      ctx.strokeStyle = INK;
      ctx.lineWidth = this.canvas.width * BRUSH;
      ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo(...from);
      ctx.lineTo(...to);
      ctx.stroke();
    };
    this.canvas.addEventListener("pointerdown", (e) => {
      this.canvas.setPointerCapture?.(e.pointerId);
      this.drawing = true;
      this.last = at(e);
      // A dot: Chromium paints no cap on a line of zero length.
      ctx.fillStyle = INK;
      ctx.beginPath();
      ctx.arc(...this.last, (this.canvas.width * BRUSH) / 2, 0, 2 * Math.PI);
      ctx.fill();
    });
    this.canvas.addEventListener("pointermove", (e) => {
      if (!this.drawing || !this.last) return;
      const p = at(e);
      paint(this.last, p);
      this.last = p;
    });
    const end = (): void => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.classify();
    };
    this.canvas.addEventListener("pointerup", end);
    this.canvas.addEventListener("pointercancel", end);
    this.root.querySelector('[data-action="clear"]')!.addEventListener("click", () => {
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      this.classify();
    });
    this.showBars(null);
  }

  /** The canvas area-averaged to 8 x 8, as 0..16, to the worker for a prediction. */
  private classify(): void {
    const pixels = downsample(this.canvas);
    drawDigit(this.preview, pixels);
    this.bars.dataset.pixels = JSON.stringify(pixels);
    this.bars.dataset.request = String(++this.request);
    this.send({ type: "predict", id: this.request, pixels });
  }

  private showBars(probabilities: number[] | null): void {
    this.bars.replaceChildren(
      ...Array.from({ length: 10 }, (_, k) => {
        const row = document.createElement("div");
        row.className = "bar";
        const p = probabilities?.[k] ?? 0;
        row.innerHTML = `<span class="digit">${k}</span><span class="fill" style="width:${(p * 100).toFixed(1)}%"></span><span class="value">${probabilities ? (p * 100).toFixed(1) + "%" : ""}</span>`;
        return row;
      }),
    );
    if (probabilities) {
      const best = probabilities.indexOf(Math.max(...probabilities));
      this.bars.dataset.predicted = String(best);
      this.bars.dataset.probabilities = JSON.stringify(probabilities);
      this.bars.children[best]!.classList.add("best");
    } else {
      delete this.bars.dataset.predicted;
    }
  }

  protected clear(): void {
    this.chart?.destroy();
    exposed.digits = { epochs: [], heldOut: [] };
    this.chart = new LineChart(this.root.querySelector(".chart")!, {
      title: "training loss (KL) and held-out accuracy",
      xLabel: "epoch",
      series: [
        { label: "training loss", color: COLORS[0]!, scale: "y" },
        { label: "held-out accuracy", color: COLORS[2]!, scale: "acc" },
      ],
      scales: {
        y: { log: true, label: "loss (nats)" },
        acc: { label: "accuracy", side: "right", range: [0, 1] },
      },
      width: 520,
      height: 260,
    });
    delete this.root.dataset.epoch;
  }

  protected start(): void {
    this.send({ type: "start", panel: "digits", settings: settings.digits });
    this.classify();
  }

  protected receive(m: FromWorker): void {
    if (m.type === "digits-setup") {
      exposed.digits.heldOut = m.heldOut;
    } else if (m.type === "digits-epoch") {
      exposed.digits.epochs.push(m);
      this.chart!.push(m.epoch, [m.loss, m.valAccuracy]);
      this.root.dataset.epoch = String(m.epoch);
      this.root.dataset.valAccuracy = String(m.valAccuracy);
      this.root.querySelector(".figures")!.textContent =
        `epoch ${m.epoch}: training loss ${m.loss.toFixed(4)}, accuracy ${(m.accuracy * 100).toFixed(1)}%; ` +
        `held-out accuracy ${(m.valAccuracy * 100).toFixed(1)}%, KL ${m.valKl.toFixed(4)}`;
      // The drawn digit follows the model as it learns.
      this.classify();
    } else if (m.type === "prediction" && m.id === this.request) {
      this.showBars(m.probabilities);
      this.bars.dataset.answered = String(m.id);
    }
  }
}

// ---- panel 3: variational inference ----

/** The chosen family's q, and the other's. */
const Q_COLOR = "#d62728";
const OTHER_COLOR = "#444";
const OTHER_LINE = "#aaa";

/** Contour levels: ln p below its maximum. */
const LEVELS = [0.5, 1, 2, 3, 4.5, 6, 8];

class ViPanel extends Panel {
  private chart: LineChart | null = null;
  private readonly canvas = $<HTMLCanvasElement>("#vi-canvas");
  private contours: ImageData | null = null;
  private contourTarget: TargetName | null = null;

  constructor() {
    super("vi");
  }

  /** Canvas pixel of z. */
  private toPixel(z1: number, z2: number): [number, number] {
    const [cx, cy] = CENTRE[settings.vi.target];
    const s = this.canvas.width / (2 * VIEW);
    return [(z1 - cx + VIEW) * s, (VIEW - (z2 - cy)) * s];
  }

  /** The target's contours: lines where ln p crosses a level, found pixel by pixel. */
  private drawContours(): ImageData {
    const name = settings.vi.target;
    if (this.contours && this.contourTarget === name) return this.contours;
    const { width: w, height: h } = this.canvas;
    const t = target2D(name);
    const [cx, cy] = CENTRE[name];
    const grad = [0, 0];
    const band = new Int8Array(w * h);
    const lp = new Float64Array(w * h);
    let top = -Infinity;
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        const z1 = cx - VIEW + ((i + 0.5) * 2 * VIEW) / w;
        const z2 = cy + VIEW - ((j + 0.5) * 2 * VIEW) / h;
        const v = t.logDensity([z1, z2], grad);
        lp[j * w + i] = v;
        top = Math.max(top, v);
      }
    }
    for (let k = 0; k < w * h; k++) {
      const below = top - lp[k]!;
      let b = 0;
      while (b < LEVELS.length && below > LEVELS[b]!) b++;
      band[k] = b;
    }
    const img = new ImageData(w, h);
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        const k = j * w + i;
        const b = band[k]!;
        const edge = (i + 1 < w && band[k + 1] !== b) || (j + 1 < h && band[k + w] !== b);
        // Shaded bands, darker inside, with a line where the band changes.
        const shade = b >= LEVELS.length ? 255 : 255 - Math.round(((LEVELS.length - b) / LEVELS.length) * 70);
        const o = 4 * k;
        img.data[o] = edge ? 90 : shade;
        img.data[o + 1] = edge ? 90 : shade;
        img.data[o + 2] = edge ? 110 : 255;
        img.data[o + 3] = 255;
      }
    }
    this.contours = img;
    this.contourTarget = name;
    return img;
  }

  /** The contours, then the other family's q (dashed), then the chosen family's. */
  private drawFits(fits: { mean: number[]; covariance: number[] }[]): void {
    const ctx = this.canvas.getContext("2d")!;
    ctx.putImageData(this.drawContours(), 0, 0);
    const s = this.canvas.width / (2 * VIEW);
    [...fits].reverse().forEach(({ mean, covariance }, i) => {
      const chosen = i === fits.length - 1;
      const color = chosen ? Q_COLOR : OTHER_COLOR;
      const e = ellipseOf(covariance);
      const [px, py] = this.toPixel(mean[0]!, mean[1]!);
      ctx.strokeStyle = color;
      ctx.lineWidth = chosen ? 2 : 1.5;
      ctx.setLineDash(chosen ? [] : [6, 4]);
      for (const k of [1, 2]) {
        ctx.beginPath();
        // The canvas's y axis points down: the angle changes sign.
        ctx.ellipse(px, py, k * e.major * s, k * e.minor * s, -e.angle, 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.setLineDash([]);
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      ctx.fill();
    });
  }

  protected clear(): void {
    this.chart?.destroy();
    exposed.vi = { frames: [], objective: [], otherObjective: [] };
    const reverse = settings.vi.direction === "reverse";
    const [chosen, other] =
      settings.vi.family === "fullrank" ? ["full-rank", "mean-field"] : ["mean-field", "full-rank"];
    const what = reverse ? "ELBO" : "E_p[ln q]";
    this.chart = new LineChart(this.root.querySelector(".chart")!, {
      title: reverse ? "ELBO of each step (8 draws from q)" : "mean ln q over each step's 8 draws from p",
      xLabel: "step",
      // The other family first, so that the chosen one's line is drawn over it.
      series: [
        { label: `${what}, ${other} (dashed)`, color: OTHER_LINE },
        { label: `${what}, ${chosen} (solid)`, color: Q_COLOR },
      ],
      scales: { y: { label: "nats" } },
      width: 420,
      height: 240,
    });
    const t = target2D(settings.vi.target);
    this.root.querySelector(".known")!.textContent =
      `target: mean (${t.mean.map((v) => v.toFixed(3)).join(", ")}), covariance [${t.covariance.map((v) => v.toFixed(3)).join(", ")}]`;
  }

  protected start(): void {
    this.send({ type: "start", panel: "vi", settings: settings.vi });
  }

  protected receive(m: FromWorker): void {
    if (m.type !== "vi-frame") return;
    const [q, other] = m.fits as [(typeof m.fits)[number], (typeof m.fits)[number]];
    const first = exposed.vi.objective.length;
    exposed.vi.frames.push({
      step: m.step,
      mean: q.mean,
      covariance: q.covariance,
      other: { mean: other.mean, covariance: other.covariance },
    });
    exposed.vi.objective.push(...q.objective);
    exposed.vi.otherObjective.push(...other.objective);
    q.objective.forEach((v, i) => this.chart!.push(first + i + 1, [other.objective[i] ?? null, v]));
    this.root.dataset.step = String(m.step);
    this.root.dataset.mean = JSON.stringify(q.mean);
    this.root.dataset.covariance = JSON.stringify(q.covariance);
    this.root.dataset.otherMean = JSON.stringify(other.mean);
    this.root.dataset.otherCovariance = JSON.stringify(other.covariance);
    const show = (f: typeof q): string =>
      `${f.family === "fullrank" ? "full-rank" : "mean-field"} q mean (${f.mean.map((v) => v.toFixed(3)).join(", ")}), covariance [${f.covariance.map((v) => v.toFixed(3)).join(", ")}]`;
    this.root.querySelector(".figures")!.textContent = `step ${m.step}: ${show(q)}; ${show(other)}`;
    this.drawFits(m.fits);
  }
}

// ---- the page's own timer: it keeps firing while the workers train ----

const ticks = $("#ticks");
let count = 0;
let lastTick = performance.now();
let maxGap = 0;
setInterval(() => {
  const now = performance.now();
  maxGap = Math.max(maxGap, now - lastTick);
  lastTick = now;
  count++;
  exposed.ticks.push(now);
  ticks.dataset.ticks = String(count);
  ticks.dataset.maxGap = maxGap.toFixed(1);
  ticks.textContent = `${count} (longest gap ${maxGap.toFixed(0)} ms)`;
}, 50);

for (const panel of [new KlPanel(), new DigitsPanel(), new ViPanel()]) panel.reset();
document.body.dataset.ready = "true";
