// Where the package is and what it is: dist/cli.js lives one folder below the package root.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const packageRoot = (): string => fileURLToPath(new URL("..", import.meta.url));

export function packageJson(): { version?: string; scripts?: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
    version?: string;
    scripts?: Record<string, unknown>;
  };
}
