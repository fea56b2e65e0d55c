// The learning rates `klcore compare-losses` chose for each loss (docs/loss-comparison.json, each
// task's "chosen"; test/demo.test.ts checks they agree), and the Zipf task's size.

export const LOSSES = ["kl", "mse", "l1", "js"] as const;

export const TUNED = {
  "zipf-sgd": { kl: 10, mse: 100, l1: 1, js: 30 },
  "zipf-adam": { kl: 0.3, mse: 0.3, l1: 0.03, js: 0.3 },
  "digits-softmax": { kl: 0.01, mse: 0.01, l1: 0.003, js: 0.003 },
} as const;

export const ZIPF = { classes: 1000, steps: 2000 } as const;
