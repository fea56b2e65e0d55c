// The messages between the page and its training workers (one worker per panel).

import type { DigitsSettings, KlSettings, ViSettings } from "./state.js";

export type ToWorker =
  | { type: "start"; panel: "kl"; settings: KlSettings }
  | { type: "start"; panel: "digits"; settings: DigitsSettings }
  | { type: "start"; panel: "vi"; settings: ViSettings }
  | { type: "play" }
  | { type: "pause" }
  | { type: "step" }
  /** An image of 64 pixels, 0..16 as the dataset's, to classify with the model as it is now. */
  | { type: "predict"; id: number; pixels: number[] };

export type FromWorker =
  /** The losses compared and each one's learning rate. */
  | { type: "kl-setup"; losses: string[]; rates: number[]; xLabel: string; total: number }
  /** Step (or epoch) numbers and, per loss, the KL from the target at each (null: that run stopped). */
  | { type: "kl-points"; x: number[]; values: (number | null)[][] }
  /** The file rows held out (0-based rows of data/digits.csv after its header), never trained on. */
  | { type: "digits-setup"; heldOut: number[]; trainRows: number }
  | {
      type: "digits-epoch";
      epoch: number;
      loss: number;
      accuracy: number;
      valKl: number;
      valAccuracy: number;
    }
  | { type: "prediction"; id: number; probabilities: number[] }
  /** q of each family after `step` steps (the chosen family first), and each step's objective since the last frame. */
  | {
      type: "vi-frame";
      step: number;
      fits: {
        family: "meanfield" | "fullrank";
        mean: number[];
        covariance: number[];
        objective: number[];
      }[];
    }
  | { type: "status"; status: "paused" | "playing" | "done"; detail?: string }
  | { type: "error"; message: string };
