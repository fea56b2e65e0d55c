// Where the packages are: this command line's own (cli/dist/cli.js lives one folder below its root,
// next to data/, the digits it ships) and the library's, found as Node resolves `klcore` from here.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

interface PackageJson {
  version?: string;
  scripts?: Record<string, unknown>;
}

const read = (root: string): PackageJson =>
  JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as PackageJson;

/** The command line's package root. */
export const cliRoot = (): string => fileURLToPath(new URL("..", import.meta.url));

/** The library's package root: a source checkout holds bench/ there. */
export const libraryRoot = (): string =>
  dirname(createRequire(import.meta.url).resolve("klcore/package.json"));

export const cliPackage = (): PackageJson => read(cliRoot());

export const libraryPackage = (): PackageJson => read(libraryRoot());
