// The file `klcore train` writes and `klcore predict`/`evaluate` read: the library's classifier file
// (ClassifierJSON, read by its loadClassifier()): the model as toJSON() gives it (under "model", so
// loadModel() takes that part as it is), the label column and the class labels in class order, the
// feature columns by name (by number for a file without a header), the library's standardiser
// fitted on the training rows, and here the training settings and results.

import { renameSync, rmSync, writeFileSync } from "node:fs";
import {
  loadClassifier,
  standardize,
  type Classifier,
  type ClassifierJSON,
  type Standardizer,
  type StandardizerJSON,
} from "klcore";
import { readFailure, readText } from "./csv.js";
import { cannotWrite, notModelFile } from "./errors.js";

/** Standardisation (x - mean) / scale per feature (the library's standardiser), or nothing. */
export type Scaling = StandardizerJSON | { method: "none" };

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

/** The library's classifier file, with the command line's record of training. */
export interface ClassifierFile extends ClassifierJSON {
  scaling: Scaling;
  training: TrainingRecord;
}

/** The rows `use` of x (rows x width), as float64 rows x width. */
export function pickRows(x: Float64Array, width: number, use: ArrayLike<number>): Float64Array {
  const out = new Float64Array(use.length * width);
  for (let i = 0; i < use.length; i++) out.set(x.subarray(use[i]! * width, (use[i]! + 1) * width), i * width);
  return out;
}

/** The library's standardiser fitted on the rows `use` of x (rows x width). */
export const fitScaling = (x: Float64Array, width: number, use: ArrayLike<number>): Standardizer =>
  standardize(pickRows(x, width, use), { inputs: width });

/** The rows `use` of x (rows x width), scaled (null: as they are), as the model's float32 input. */
export function scaledRows(
  x: Float64Array,
  width: number,
  use: ArrayLike<number>,
  s: Standardizer | null,
): Float32Array {
  const rows = pickRows(x, width, use);
  return s ? s.transform(rows) : Float32Array.from(rows);
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

export interface SavedClassifier {
  /** The file as written, for its training record. */
  file: ClassifierFile;
  /** The library's classifier: the model behind its scaling. */
  classifier: Classifier;
}

/**
 * Reads a model file with the library's loadClassifier(), which checks every field; every problem
 * is a DataError naming the file.
 */
export function readClassifier(path: string): SavedClassifier {
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
  let classifier: Classifier;
  try {
    classifier = loadClassifier(f as ClassifierJSON);
  } catch (e) {
    throw notModelFile(path, (e as Error).message.replace(/^not a klcore classifier file: /, ""));
  }
  return { file: f as ClassifierFile, classifier };
}
