// Drives the demo page in a browser (playwright-core's Page): draws an 8 x 8 image on the digit
// canvas with pointer events, as a hand would. Used by test/demo.test.ts and demo/screenshot.mjs.

/** Cells at least this bright (of 16) are painted. */
export const PAINT_FROM = 6;

/**
 * Paints `pixels` (64 values 0..16, row-major) on #digit-canvas: each run of bright cells in a row is
 * one stroke through the cells' centres (a single cell, a dot). Resolves when the page has
 * classified the drawing.
 */
export async function drawPixels(page, pixels) {
  await page.click("#digits [data-action=clear]");
  const box = await page.locator("#digit-canvas").boundingBox();
  const cell = box.width / 8;
  const centre = (i, j) => [box.x + (j + 0.5) * cell, box.y + (i + 0.5) * cell];
  for (let i = 0; i < 8; i++) {
    let j = 0;
    while (j < 8) {
      if (pixels[i * 8 + j] < PAINT_FROM) {
        j++;
        continue;
      }
      const start = j;
      while (j < 8 && pixels[i * 8 + j] >= PAINT_FROM) j++;
      await page.mouse.move(...centre(i, start));
      await page.mouse.down();
      await page.mouse.move(...centre(i, j - 1), { steps: Math.max(1, 2 * (j - 1 - start)) });
      await page.mouse.up();
    }
  }
  await page.waitForFunction(() => {
    const bars = document.querySelector("#digit-bars");
    return bars.dataset.answered === bars.dataset.request;
  });
  return page.evaluate(() => {
    const bars = document.querySelector("#digit-bars");
    return {
      predicted: Number(bars.dataset.predicted),
      probabilities: JSON.parse(bars.dataset.probabilities),
      pixels: JSON.parse(bars.dataset.pixels),
    };
  });
}
