// A classifier file as `klcore train` writes it ("klcore-classifier"): a model (toJSON()'s object)
// with the feature scaling it was trained behind, the feature columns in input order and the class
// labels. loadClassifier() returns the model and its scaling as one object whose predict() takes
// the features as they are in the data, so the scaling cannot be forgotten, and answers with labels.

import type { Core } from "./wasm/loader.js";
import type { Scratch } from "./wasm/memory.js";
import { loadModel, type Model, type ModelJSON, type PredictOptions } from "./models.js";
import {
  featureRows,
  loadStandardizer,
  type FeatureRows,
  type Standardizer,
  type StandardizerJSON,
} from "./scaling.js";
import {
  badClassifierJson,
  classifierJsonFeatures,
  classifierJsonFormat,
  classifierJsonHeader,
  classifierJsonLabel,
  classifierJsonLabels,
  classifierJsonModel,
  classifierJsonScaling,
  classifierJsonShape,
  savedNotJson,
  savedNotObject,
  savedVersion,
} from "./errors.js";

/** A classifier file: what `klcore train` writes and loadClassifier() reads. */
export interface ClassifierJSON {
  format: "klcore-classifier";
  version: 1;
  /** The label column's name in the training data. */
  label: string;
  /** Class k's label. */
  labels: string[];
  /** The feature columns, in the model's input order. */
  features: string[];
  /** false when the training CSV had no header line: features and label are column numbers (1-based). */
  header?: boolean;
  /** The scaling the model's inputs went through ("none": the features as they are). */
  scaling: StandardizerJSON | { method: "none" };
  /** How the model was trained (the command line's settings and results), kept as it is. */
  training?: unknown;
  model: ModelJSON;
}

/** What Classifier.predict() gives. */
export interface Classification {
  /** The class probabilities, rows x classes. */
  probabilities: Float32Array;
  /** The most probable class of each row (the first of equals). */
  classes: Int32Array;
  /** The label of each row's most probable class. */
  labels: string[];
}

export interface Classifier {
  /** The label column's name in the training data. */
  readonly label: string;
  /** Class k's label. */
  readonly labels: readonly string[];
  /** The feature columns, in input order: the columns of x. */
  readonly features: readonly string[];
  /** The fitted scaling (null for a file with scaling "none"). */
  readonly scaling: Standardizer | null;
  /** The model, which takes scaled features (scale(x)). */
  readonly model: Model;
  readonly disposed: boolean;
  /** x (rows of `features`, as in the data) as the model's input: scaled as in training. */
  scale(x: FeatureRows): Float32Array;
  /** The probabilities and the predicted class and label of every row of x, scaled first. */
  predict(x: FeatureRows, options?: PredictOptions): Classification;
  /** Frees the model's wasm memory. */
  dispose(): void;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

class Loaded implements Classifier {
  constructor(
    readonly label: string,
    readonly labels: readonly string[],
    readonly features: readonly string[],
    readonly scaling: Standardizer | null,
    readonly model: Model,
  ) {}

  get disposed(): boolean {
    return this.model.disposed;
  }

  scale(x: FeatureRows): Float32Array {
    return this.scaling
      ? this.scaling.transform(x)
      : Float32Array.from(featureRows("x", x, this.model.inputs, true));
  }

  predict(x: FeatureRows, options?: PredictOptions): Classification {
    const probabilities = this.model.predict(this.scale(x), options);
    const k = this.model.classes;
    const rows = probabilities.length / k;
    const classes = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (probabilities[r * k + c]! > probabilities[r * k + best]!) best = c;
      classes[r] = best;
    }
    return { probabilities, classes, labels: Array.from(classes, (c) => this.labels[c]!) };
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** A classifier file (the object or its JSON text), every field checked, its model in this instance. */
export function loadClassifier(core: Core, scratch: Scratch, json: unknown): Classifier {
  let j: unknown = json;
  if (typeof json === "string") {
    try {
      j = JSON.parse(json);
    } catch (e) {
      throw savedNotJson(badClassifierJson, (e as Error).message);
    }
  }
  if (typeof j !== "object" || j === null) throw savedNotObject(badClassifierJson);
  const f = j as Partial<Record<keyof ClassifierJSON, unknown>>;
  if (f.format !== "klcore-classifier") throw classifierJsonFormat(f.format);
  if (f.version !== 1) throw savedVersion(badClassifierJson, f.version);
  if (typeof f.label !== "string") throw classifierJsonLabel();
  if (!isStrings(f.labels) || new Set(f.labels).size !== f.labels.length) throw classifierJsonLabels();
  if (!isStrings(f.features) || new Set(f.features).size !== f.features.length) {
    throw classifierJsonFeatures();
  }
  if (f.header !== undefined && typeof f.header !== "boolean") throw classifierJsonHeader();
  const width = f.features.length;
  const s = f.scaling as { method?: unknown } | undefined;
  let scaling: Standardizer | null = null;
  if (s?.method !== "none") {
    try {
      scaling = loadStandardizer(s as StandardizerJSON);
    } catch {
      throw classifierJsonScaling(width);
    }
    if (scaling.inputs !== width) throw classifierJsonScaling(width);
  }
  let model: Model;
  try {
    model = loadModel(core, scratch, f.model);
  } catch (e) {
    throw classifierJsonModel((e as Error).message);
  }
  if (model.classes !== f.labels.length || model.inputs !== width) {
    model.dispose();
    throw classifierJsonShape(model.inputs, model.classes, width, f.labels.length);
  }
  return new Loaded(f.label, [...f.labels], [...f.features], scaling, model);
}
