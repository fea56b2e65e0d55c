// What a new user's first mistakes get: mlp() without hidden is one hidden layer of 64, and an
// unknown option names the one it most likely meant (another case or separator, an abbreviation by
// initials, a near miss), in both builds.
import { describe, expect, it } from "vitest";
import { adam, createInstanceSync, fit, sgd, standardize } from "../dist/index.js";

describe("mlp() without hidden", () => {
  it.each([true, false])("simd %s: one hidden layer of 64, relu, the same as hidden: [64]", (simd) => {
    const k = createInstanceSync({ simd });
    const a = k.mlp({ inputs: 5, classes: 3, seed: 4 });
    const b = k.mlp({ inputs: 5, hidden: [64], classes: 3, seed: 4 });
    expect([a.hidden, a.activation, a.parameterCount]).toEqual([[64], "relu", 5 * 64 + 64 + 64 * 3 + 3]);
    expect(a.toJSON()).toEqual(b.toJSON());
    const x = Float32Array.from({ length: 20 }, (_, i) => Math.sin(i));
    expect(a.predict(x)).toEqual(b.predict(x));
    a.dispose();
    b.dispose();
  });
});

describe("unknown options: did you mean", () => {
  const model = createInstanceSync().softmaxRegression({ inputs: 1, classes: 2 });
  const data = { x: [0, 1], y: [0, 1] };

  it.each([
    ["lr", "learningRate"],
    ["learning_rate", "learningRate"],
    ["LearningRate", "learningRate"],
    ["batch_size", "batchSize"],
    ["bs", "batchSize"],
    ["epoch", "epochs"],
    ["epcohs", "epochs"],
    ["optimiser", "optimizer"],
  ])("fit: %s -> %s", async (given, meant) => {
    await expect(fit(model, data, { [given]: 1 } as never)).rejects.toThrow(
      new RegExp(`^fit: unknown option '${given}' \\(did you mean '${meant}'\\?\\); known options: `),
    );
  });

  it("optimisers, standardize, and no suggestion when nothing is close", () => {
    expect(() => adam({ lr: 0.1 } as never)).toThrow(
      /adam: unknown option 'lr' \(did you mean 'learningRate'\?\)/,
    );
    expect(() => sgd({ momentun: 0.9 } as never)).toThrow(/did you mean 'momentum'\?/);
    expect(() => standardize([1], { input: 1 } as never)).toThrow(/did you mean 'inputs'\?/);
    expect(() => adam({ zebra: 1 } as never)).toThrow(/^adam: unknown option 'zebra'; known options: /);
  });
});
