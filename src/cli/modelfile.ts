// The file `klcore train` writes and `klcore predict`/`evaluate` read: the model as toJSON() gives
// it (under "model", so loadModel() takes that part as it is), with what the command line adds
// around it: the label column and the class labels in class order, the feature columns by name, the
// feature scaling fitted on the training rows, and the training settings and results.

import { renameSync, rmSync, writeFileSync } from "node:fs";
import { loadModel, type Model, type ModelJSON } from "klcore";
import { readFailure, readText } from "./csv.js";
import { cannotWrite, notModelFile } from "./errors.js";

/** Standardisation (x - mean) / scale per feature, or nothing. */
export type Scaling = { method: "standard"; mean: number[]; scale: number[] } | { method: "none" };

export interface Metrics {
  loss: number;
  kl: number;
  accuracy: number;
  rows: number;
}

export interface TrainingRecord {
  data: string;
  rows: number;
  trainRows: number;
  heldOutRows: number;
  model: "softmax" | "mlp";
  loss: string;
  optimizer: string;
  learningRate: number | null;
  epochs: number;
  epochsRun: number;
  batchSize: number;
  seed: number;
  validation: number;
  stopReason: string;
  train: Metrics;
  heldOut: Metrics | null;
}

export interface ClassifierFile {
  format: "klcore-classifier";
  version: 1;
  /** The label column's name in the training CSV. */
  label: string;
  /** Class k's label. */
  labels: string[];
  /** The feature columns, in the model's input order. */
  features: string[];
  scaling: Scaling;
  training: TrainingRecord;
  model: ModelJSON;
}

export interface Classifier {
  file: ClassifierFile;
  model: Model;
}

/** Standardisation fitted on the rows `use` of x (rows x width): mean 0, variance 1 per column. */
export function fitScaling(x: Float64Array, width: number, use: ArrayLike<number>): Scaling {
  const mean = new Array<number>(width).fill(0);
  const scale = new Array<number>(width).fill(0);
  const n = use.length;
  for (let i = 0; i < n; i++) {
    const at = use[i]! * width;
    for (let c = 0; c < width; c++) mean[c]! += x[at + c]!;
  }
  for (let c = 0; c < width; c++) mean[c]! /= n;
  for (let i = 0; i < n; i++) {
    const at = use[i]! * width;
    for (let c = 0; c < width; c++) scale[c]! += (x[at + c]! - mean[c]!) ** 2;
  }
  // A constant column keeps scale 1: its values all become 0 and stay finite elsewhere.
  for (let c = 0; c < width; c++) scale[c] = scale[c]! > 0 ? Math.sqrt(scale[c]! / n) : 1;
  return { method: "standard", mean, scale };
}

/** The rows `use` of x (rows x width), scaled, as the model's float32 input. */
export function scaledRows(x: Float64Array, width: number, use: ArrayLike<number>, s: Scaling): Float32Array {
  const out = new Float32Array(use.length * width);
  for (let i = 0; i < use.length; i++) {
    const at = use[i]! * width;
    for (let c = 0; c < width; c++) {
      const v = x[at + c]!;
      out[i * width + c] = s.method === "standard" ? (v - s.mean[c]!) / s.scale[c]! : v;
    }
  }
  return out;
}

/** 0, 1, ..., n - 1. */
export const allRows = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/** Writes the file whole or not at all: a temporary file beside it, renamed over it. */
export function writeAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw cannotWrite(file, readFailure(e));
  }
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
const isNumbers = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** Reads and checks a model file; every problem is a DataError naming the file. */
export function readClassifier(path: string): Classifier {
  const text = readText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw notModelFile(path, `not JSON (${(e as Error).message})`);
  }
  const f = json as Partial<ClassifierFile> | null;
  if (typeof f !== "object" || f === null || f.format !== "klcore-classifier") {
    throw notModelFile(path, 'expected an object with format "klcore-classifier"');
  }
  if (f.version !== 1)
    throw notModelFile(path, `version ${JSON.stringify(f.version)} is not supported (1 is)`);
  if (typeof f.label !== "string") throw notModelFile(path, "label must be the label column's name");
  if (!isStrings(f.labels) || new Set(f.labels).size !== f.labels.length) {
    throw notModelFile(path, "labels must be distinct strings");
  }
  if (!isStrings(f.features) || new Set(f.features).size !== f.features.length) {
    throw notModelFile(path, "features must be distinct column names");
  }
  const s = f.scaling as Partial<{ method: string; mean: unknown; scale: unknown }> | undefined;
  const width = f.features.length;
  const scalingOk =
    s?.method === "none" ||
    (s?.method === "standard" &&
      isNumbers(s.mean, width) &&
      isNumbers(s.scale, width) &&
      (s.scale as number[]).every((v) => v > 0));
  if (!scalingOk)
    throw notModelFile(path, `scaling must be "none" or standard with ${width} means and scales`);
  let model: Model;
  try {
    model = loadModel(f.model as ModelJSON);
  } catch (e) {
    throw notModelFile(path, (e as Error).message);
  }
  if (model.classes !== f.labels.length || model.inputs !== width) {
    model.dispose();
    throw notModelFile(
      path,
      `the model has ${model.inputs} inputs and ${model.classes} classes, but the file names ` +
        `${width} features and ${f.labels.length} labels`,
    );
  }
  return { file: f as ClassifierFile, model };
}
