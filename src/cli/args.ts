// Command-line parsing over Node's util.parseArgs (strict: an unknown option is an error), with
// the value checks every command shares. Every failure is a UsageError (exit code 2).

import { parseArgs } from "node:util";
import {
  badArguments,
  badOptionValue,
  extraArguments,
  missingArgument,
  optionNeedsValue,
  optionTakesNoValue,
  unknownOption,
} from "./errors.js";
import { closestName } from "./suggest.js";
import type { ReadOptions } from "./csv.js";

export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Whether the arguments ask for help (before a "--", which ends the options). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** The options and positionals of `klcore <command> ...args`, checked against `options`. */
export function parseCommand(
  command: string,
  args: readonly string[],
  options: OptionSpec,
  positionals: { names: readonly string[]; required: number },
): Parsed {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const option = /'(-[^' ]*)/.exec(err.message)?.[1] ?? "";
    switch (err.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
        const meant = option.startsWith("--")
          ? closestName(option.slice(2).split("=")[0]!, Object.keys(options))
          : null;
        throw unknownOption(command, option, meant === null ? null : `--${meant}`);
      }
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        if (/does not take an argument/.test(err.message)) throw optionTakesNoValue(command, option);
        throw optionNeedsValue(command, option);
      default:
        throw badArguments(command, err.message);
    }
  }
  const given = parsed.positionals;
  if (given.length < positionals.required) {
    throw missingArgument(command, positionals.names.slice(given.length, positionals.required).join(" and "));
  }
  if (given.length > positionals.names.length)
    throw extraArguments(command, given.slice(positionals.names.length));
  return { values: parsed.values as Parsed["values"], positionals: given };
}

const INTEGER = /^[+-]?\d+$/;
// A plain decimal number: what a CSV cell or an option may hold (no hex, no "Infinity", no "").
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number a cell or option spells, or null when it is not a plain decimal number. */
export function decimal(text: string): number | null {
  return DECIMAL.test(text) ? Number(text) : null;
}

export function integerOption(
  command: string,
  option: string,
  text: string | boolean | undefined,
  fallback: number,
  least: number,
): number {
  if (text === undefined) return fallback;
  const v = typeof text === "string" && INTEGER.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < least) {
    throw badOptionValue(
      command,
      option,
      least === 0 ? "an integer >= 0" : `an integer >= ${least}`,
      String(text),
    );
  }
  return v;
}

export function numberOption(
  command: string,
  option: string,
  text: string | boolean | undefined,
  fallback: number | undefined,
  check: { expected: string; ok: (v: number) => boolean },
): number | undefined {
  if (text === undefined) return fallback;
  const v = typeof text === "string" ? decimal(text) : null;
  if (v === null || !Number.isFinite(v) || !check.ok(v)) {
    throw badOptionValue(command, option, check.expected, String(text));
  }
  return v;
}

export function choiceOption<T extends string>(
  command: string,
  option: string,
  text: string | boolean | undefined,
  fallback: T,
  choices: readonly T[],
): T {
  if (text === undefined) return fallback;
  if (typeof text !== "string" || !(choices as readonly string[]).includes(text)) {
    throw badOptionValue(command, option, `one of ${choices.join(", ")}`, String(text));
  }
  return text as T;
}

/** "64,32" -> [64, 32]: hidden layer widths. */
export function widthsOption(
  command: string,
  option: string,
  text: string | boolean | undefined,
  fallback: number[],
): number[] {
  if (text === undefined) return fallback;
  const parts = typeof text === "string" ? text.split(",").map((s) => s.trim()) : [];
  const widths = parts.map((p) => (INTEGER.test(p) ? Number(p) : NaN));
  if (widths.length === 0 || widths.some((w) => !Number.isSafeInteger(w) || w < 1)) {
    throw badOptionValue(
      command,
      option,
      "positive layer widths separated by commas, e.g. 64,32",
      String(text),
    );
  }
  return widths;
}

/** A string option's value (undefined when absent). */
export const stringOption = (text: string | boolean | undefined): string | undefined =>
  typeof text === "string" ? text : undefined;

/** The options every command that reads a CSV file takes. */
export const READING_OPTIONS: OptionSpec = {
  "no-header": { type: "boolean" },
  delimiter: { type: "string" },
  "skip-rows": { type: "string" },
};

const DELIMITERS: Record<string, string> = { comma: ",", semicolon: ";", tab: "\t", "\\t": "\t" };

/** The reading options given; `header` is the default when --no-header is absent. */
export function readingOptions(command: string, v: Parsed["values"], header = true): ReadOptions {
  const text = stringOption(v.delimiter);
  let delimiter: string | undefined;
  if (text !== undefined) {
    delimiter = DELIMITERS[text] ?? text;
    if ([...delimiter].length !== 1 || /["\r\n]/.test(delimiter)) {
      throw badOptionValue(
        command,
        "--delimiter",
        'one character (not a quote or a line break), or comma, semicolon or tab (also "\\t")',
        text,
      );
    }
  }
  return {
    header: v["no-header"] === true ? false : header,
    delimiter,
    skipRows:
      v["skip-rows"] === undefined ? undefined : integerOption(command, "--skip-rows", v["skip-rows"], 0, 0),
  };
}
