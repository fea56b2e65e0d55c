#!/usr/bin/env node
// The `klcore` command: the bundled command line, or how to build it in a source checkout (npm links
// this file at install time, before any build has run).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write("klcore: the command line is not built yet: run `npm run build` in the checkout\n");
  process.exit(1);
}
await import(bundle.href);
