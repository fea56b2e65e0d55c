import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests run against the built package in dist/ (npm test builds first): what users import.
    pool: "forks",
    // Node 20 runs WebAssembly relaxed SIMD (the opt-in FMA build) only behind this flag; Node 22 and
    // later ship it.
    execArgv: Number(process.versions.node.split(".")[0]) < 22 ? ["--experimental-wasm-relaxed-simd"] : [],
  },
});
