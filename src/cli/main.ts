// The klcore command line: dispatches to a command, prints help, and turns failures into messages
// and exit codes (0 success, 1 bad data or a failed run, 2 bad arguments). Bundled to dist/cli.js,
// which imports the library by the package's own name, so the library is not bundled twice.

import { packageJson } from "./package.js";
import { wantsHelp } from "./args.js";
import { DataError, noCommand, UsageError, unknownCommand } from "./errors.js";
import {
  BENCH_HELP,
  COMPARE_HELP,
  COMPARE_VI_HELP,
  EVALUATE_HELP,
  MAIN_HELP,
  PREDICT_HELP,
  TRAIN_HELP,
} from "./help.js";

// A command resolves with its exit code, or with nothing for 0.
type Command = (args: readonly string[]) => Promise<unknown>;

// Each command is loaded when run: `predict` need not load vega.
const COMMANDS: Record<string, { help: string; run: () => Promise<Command> }> = {
  train: { help: TRAIN_HELP, run: async () => (await import("./train.js")).train },
  predict: { help: PREDICT_HELP, run: async () => (await import("./predict.js")).predict },
  evaluate: { help: EVALUATE_HELP, run: async () => (await import("./evaluate.js")).evaluate },
  "compare-losses": { help: COMPARE_HELP, run: async () => (await import("./compare.js")).compareLosses },
  "compare-vi": { help: COMPARE_VI_HELP, run: async () => (await import("./comparevi.js")).compareVI },
  bench: { help: BENCH_HELP, run: async () => (await import("./bench.js")).bench },
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    if (name === undefined) {
      process.stderr.write(MAIN_HELP);
      throw noCommand();
    }
    const topic = args[0] !== undefined ? COMMANDS[args[0]] : undefined;
    process.stdout.write(topic ? topic.help : MAIN_HELP);
    return 0;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${packageJson().version ?? "unknown"}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
  if (!command) throw unknownCommand(name);
  if (wantsHelp(args)) {
    process.stdout.write(command.help);
    return 0;
  }
  const code = await (await command.run())(args);
  return typeof code === "number" ? code : 0;
}

// A reader that closes the pipe early (`klcore predict ... | head`) ends the run quietly.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`klcore: ${e.message}\n`);
    process.stderr.write(
      e.command
        ? `Run 'klcore ${e.command} --help' for its options.\n`
        : "Run 'klcore --help' for the commands.\n",
    );
    process.exitCode = e.exitCode;
  } else if (e instanceof DataError) {
    process.stderr.write(`klcore: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    // Anything else is a failure of the run (exit code 1), reported by its message; the stack helps
    // only with KLCORE_DEBUG set.
    const err = e as Error;
    process.stderr.write(`klcore: ${process.env.KLCORE_DEBUG ? (err.stack ?? err.message) : err.message}\n`);
    process.exitCode = 1;
  }
}
