// Types of demo/drive.mjs.
import type { Page } from "playwright-core";

export const PAINT_FROM: number;
export function drawPixels(
  page: Page,
  pixels: readonly number[],
): Promise<{ predicted: number; probabilities: number[]; pixels: number[] }>;
