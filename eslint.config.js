// Lint for the TypeScript and JavaScript sides. assembly/ is AssemblyScript: its function
// decorators (@inline, @lazy) are not TypeScript, so asc checks it instead.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "dist/", "assembly/", "bench/results/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      // With noUncheckedIndexedAccess, `a[i]!` after a bounds check is the idiom, not a smell.
      "@typescript-eslint/no-non-null-assertion": "off",
    },
    languageOptions: {
      globals: {
        console: "readonly",
        process: "readonly",
        performance: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        WebAssembly: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        document: "readonly",
        window: "readonly",
      },
    },
  },
);
