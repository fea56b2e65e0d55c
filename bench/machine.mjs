// The machine a run is on, and the commit it ran (Node only: the harness itself runs in pages too).

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

function gitCommit() {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: HERE, encoding: "utf8" }).trim();
    // --no-optional-locks: read only, never touch the index of a repository others work in.
    const status = execFileSync(
      "git",
      ["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
      { cwd: HERE, encoding: "utf8" },
    );
    return { commit, dirty: status.trim() !== "" };
  } catch {
    return { commit: null, dirty: null };
  }
}

/** CPU model, cores, memory, platform, Node and V8 versions, date, commit, load average. */
export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    v8: process.versions.v8,
    date: new Date().toISOString(),
    ...gitCommit(),
    loadAverageAtStart: os.loadavg(),
  };
}

/** ml-distance's version: it exports no package.json, so it is read from its install directory. */
export function mlDistanceVersion() {
  const main = createRequire(import.meta.url).resolve("ml-distance");
  const root = main.slice(
    0,
    main.lastIndexOf(`node_modules${sep}ml-distance`) + `node_modules${sep}ml-distance`.length,
  );
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
}
