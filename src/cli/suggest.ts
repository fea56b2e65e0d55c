// "Did you mean": the option a mistyped one most likely meant. The same rule as the library's
// unknown-option hint, kept here because the command line uses only the library's public surface.

/** "learning_rate", "Batch-Size" -> "learningrate", "batchsize": the name without case or separators. */
const bare = (name: string): string => name.toLowerCase().replace(/[-_ ]/g, "");

/** "learning-rate", "learningRate" -> "lr": the first letter of each word. */
const initials = (name: string): string =>
  name
    .split(/[-_ ]+|(?=[A-Z])/)
    .map((w) => w.charAt(0).toLowerCase())
    .join("");

/** Edit distance: insertions, deletions, substitutions and swaps of neighbours (jsno, json). */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        next[j] = Math.min(next[j]!, before[j - 2]! + 1);
    }
    [before, row] = [row, next];
  }
  return row[b.length]!;
}

/**
 * The known name `name` most likely meant, or null: the same name in another case or with other
 * separators (batch_size for batch-size), an abbreviation by initials either way (learning-rate
 * for lr), or the nearest name within a third of its length in edits (epoch for epochs).
 */
export function closestName(name: string, known: readonly string[]): string | null {
  const b = bare(name);
  const same = known.find((k) => bare(k) === b);
  if (same !== undefined) return same;
  const abbreviation = known.find(
    (k) => (b.length > 1 && initials(k) === b) || (bare(k).length > 1 && initials(name) === bare(k)),
  );
  if (abbreviation !== undefined) return abbreviation;
  let best: string | null = null;
  let least = Math.max(1, Math.floor(b.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(b, bare(k));
    if (d < least) [best, least] = [k, d];
  }
  return best;
}
