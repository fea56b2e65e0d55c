// The drawn digit as the dataset's images are: the UCI digits are 32 x 32 bitmaps whose 4 x 4 blocks
// were counted into 8 x 8 cells of 0..16. Here the canvas's ink (its alpha) is averaged over each
// of 8 x 8 blocks and scaled to 0..16.

export const INK = "#111";

export function downsample(canvas: HTMLCanvasElement): number[] {
  const { width: w, height: h } = canvas;
  const data = canvas.getContext("2d", { willReadFrequently: true })!.getImageData(0, 0, w, h).data;
  const sums = new Float64Array(64);
  const counts = new Float64Array(64);
  for (let y = 0; y < h; y++) {
    const row = Math.min(7, Math.floor((y * 8) / h));
    for (let x = 0; x < w; x++) {
      const cell = row * 8 + Math.min(7, Math.floor((x * 8) / w));
      sums[cell]! += data[4 * (y * w + x) + 3]! / 255;
      counts[cell]!++;
    }
  }
  return Array.from(sums, (s, i) => (16 * s) / counts[i]!);
}

/** The 8 x 8 image, one square per cell, dark for 16. */
export function drawDigit(canvas: HTMLCanvasElement, pixels: readonly number[]): void {
  const ctx = canvas.getContext("2d")!;
  const s = canvas.width / 8;
  for (let i = 0; i < 64; i++) {
    const v = Math.round(255 - (pixels[i]! / 16) * 255);
    ctx.fillStyle = `rgb(${v},${v},${v})`;
    ctx.fillRect((i % 8) * s, Math.floor(i / 8) * s, s, s);
  }
}
