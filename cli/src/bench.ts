// klcore bench [--quick]: the library package's "bench" script (what `npm run bench` runs), from
// its root, through a shell as npm runs scripts, with node_modules/.bin on the PATH. --quick
// sets BENCH_QUICK=1, which every suite reads, so it reaches each command of the script.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { delimiter, join } from "node:path";
import { parseCommand } from "./args.js";
import { benchNeedsCheckout } from "./errors.js";
import { libraryPackage, libraryRoot } from "./package.js";

export async function bench(args: readonly string[]): Promise<number> {
  const { values } = parseCommand("bench", args, { quick: { type: "boolean" } }, { names: [], required: 0 });
  const root = libraryRoot();
  let script: unknown;
  try {
    script = libraryPackage().scripts?.bench;
  } catch {
    script = undefined;
  }
  if (typeof script !== "string" || !existsSync(join(root, "bench"))) throw benchNeedsCheckout(root);
  const env = {
    ...process.env,
    PATH: [join(root, "node_modules", ".bin"), process.env.PATH ?? ""].join(delimiter),
    ...(values.quick === true ? { BENCH_QUICK: "1" } : {}),
  };
  const child = spawn(script, { cwd: root, env, shell: true, stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}
