// Writing a command's result: to stdout, resolved once the text is handed to the system (main.ts
// ends a run quietly when the reader closes the pipe early, as `| head` does); JSON laid out for reading.

export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (e) => {
      if (!e || (e as NodeJS.ErrnoException).code === "EPIPE") resolve();
      else reject(e);
    });
  });
}

/** JSON with arrays of numbers and strings kept on one line (curves would otherwise take a line per point). */
export function toJson(v: unknown, indent = ""): string {
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x !== "object" || x === null))
      return `[${v.map((x) => JSON.stringify(x) ?? "null").join(", ")}]`;
    if (v.length === 0) return "[]";
    const inner = indent + "  ";
    return `[\n${v.map((x) => inner + toJson(x, inner)).join(",\n")}\n${indent}]`;
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    // A small object of plain values on one line: a chart's data point, a median and range.
    if (entries.every(([, x]) => x === null || typeof x !== "object")) {
      const line = `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x) ?? "null"}`).join(", ")}}`;
      if (line.length <= 100) return line;
    }
    if (entries.length === 0) return "{}";
    const inner = indent + "  ";
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${toJson(x, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(v) ?? "null";
}
