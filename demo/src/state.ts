// The page's settings, kept in the query string so that a run can be shared and reproduced: every
// panel reads its settings from the URL when it starts or is reset, and a change of a control is
// written back to the URL before the panel restarts.

export type OptimizerName = "sgd" | "adam" | "rmsprop" | "adagrad";

export interface KlSettings {
  /** zipf: a categorical model fitted to a Zipf target; digits: softmax regression on the digits. */
  target: "zipf" | "digits";
  optimizer: "sgd" | "adam";
  /** One rate for the four losses, or null for each loss's rate chosen by the loss comparison. */
  lr: number | null;
  seed: number;
  /** Optimiser steps per second while playing (zipf; the digits run an epoch at a time). */
  speed: number;
}

export interface DigitsSettings {
  model: "softmax" | "mlp";
  optimizer: OptimizerName;
  lr: number;
  seed: number;
  epochs: number;
}

export interface ViSettings {
  target: "gaussian" | "banana" | "twomodes";
  family: "meanfield" | "fullrank";
  /** reverse: KL(q || p), fitVI's ELBO; forward: KL(p || q), fitted on exact draws from p. */
  direction: "reverse" | "forward";
  optimizer: OptimizerName;
  lr: number;
  seed: number;
  steps: number;
}

export interface Settings {
  kl: KlSettings;
  digits: DigitsSettings;
  vi: ViSettings;
}

export const DEFAULTS: Settings = {
  kl: { target: "zipf", optimizer: "sgd", lr: null, seed: 1, speed: 200 },
  digits: { model: "mlp", optimizer: "adam", lr: 0.003, seed: 1, epochs: 30 },
  vi: {
    target: "gaussian",
    family: "fullrank",
    direction: "reverse",
    optimizer: "adam",
    lr: 0.1,
    seed: 1,
    steps: 2000,
  },
};

/** The query key of each setting: the panel's prefix and the setting's short name. */
const KEYS = {
  kl: { target: "kl.target", optimizer: "kl.opt", lr: "kl.lr", seed: "kl.seed", speed: "kl.speed" },
  digits: { model: "dg.model", optimizer: "dg.opt", lr: "dg.lr", seed: "dg.seed", epochs: "dg.epochs" },
  vi: {
    target: "vi.target",
    family: "vi.family",
    direction: "vi.dir",
    optimizer: "vi.opt",
    lr: "vi.lr",
    seed: "vi.seed",
    steps: "vi.steps",
  },
} as const;

const OPTIMIZERS = ["sgd", "adam", "rmsprop", "adagrad"] as const;

function choice<T extends string>(q: URLSearchParams, key: string, allowed: readonly T[], fallback: T): T {
  const v = q.get(key);
  return v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
}

/** A positive finite number, else the fallback. */
function positive(q: URLSearchParams, key: string, fallback: number): number {
  const v = Number(q.get(key) ?? NaN);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** A whole number in [least, most], else the fallback. */
function whole(q: URLSearchParams, key: string, fallback: number, least: number, most: number): number {
  const v = Number(q.get(key) ?? NaN);
  return Number.isSafeInteger(v) && v >= least && v <= most ? v : fallback;
}

/** The settings a query string gives; anything missing or malformed takes its default. */
export function parseSettings(search: string): Settings {
  const q = new URLSearchParams(search);
  const d = DEFAULTS;
  const k = KEYS;
  const lr = q.get(k.kl.lr);
  return {
    kl: {
      target: choice(q, k.kl.target, ["zipf", "digits"], d.kl.target),
      optimizer: choice(q, k.kl.optimizer, ["sgd", "adam"], d.kl.optimizer),
      lr: lr === null || lr === "tuned" ? null : positive(q, k.kl.lr, NaN) || null,
      seed: whole(q, k.kl.seed, d.kl.seed, 0, 2 ** 31 - 1),
      speed: whole(q, k.kl.speed, d.kl.speed, 1, 100_000),
    },
    digits: {
      model: choice(q, k.digits.model, ["softmax", "mlp"], d.digits.model),
      optimizer: choice(q, k.digits.optimizer, OPTIMIZERS, d.digits.optimizer),
      lr: positive(q, k.digits.lr, d.digits.lr),
      seed: whole(q, k.digits.seed, d.digits.seed, 0, 2 ** 31 - 1),
      epochs: whole(q, k.digits.epochs, d.digits.epochs, 1, 1000),
    },
    vi: {
      target: choice(q, k.vi.target, ["gaussian", "banana", "twomodes"], d.vi.target),
      family: choice(q, k.vi.family, ["meanfield", "fullrank"], d.vi.family),
      direction: choice(q, k.vi.direction, ["reverse", "forward"], d.vi.direction),
      optimizer: choice(q, k.vi.optimizer, OPTIMIZERS, d.vi.optimizer),
      lr: positive(q, k.vi.lr, d.vi.lr),
      seed: whole(q, k.vi.seed, d.vi.seed, 0, 2 ** 31 - 1),
      steps: whole(q, k.vi.steps, d.vi.steps, 1, 20_000),
    },
  };
}

/** The query string of `s`, naming only the settings that differ from the defaults. */
export function formatSettings(s: Settings): string {
  const q = new URLSearchParams();
  for (const panel of ["kl", "digits", "vi"] as const) {
    const keys = KEYS[panel] as Record<string, string>;
    const values = s[panel] as unknown as Record<string, unknown>;
    const defaults = DEFAULTS[panel] as unknown as Record<string, unknown>;
    for (const [name, key] of Object.entries(keys)) {
      const v = values[name];
      if (v !== defaults[name]) q.set(key, v === null ? "tuned" : String(v));
    }
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}
