/**
 * "Did you mean" hints for misspelt field and enum names. Case and the
 * separators `_`/`-` are ignored, so `maxParallel` suggests `max_parallel`.
 */

/** The closest candidate within a distance that still reads as a typo, if any. */
export function closestName(typed: string, candidates: readonly string[]): string | undefined {
  const folded = fold(typed);
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(folded, fold(name));
    const tolerated = Math.max(1, Math.floor(name.length / 3));
    if (distance <= tolerated && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

const fold = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  // Field names are short; long typed keys cannot be typos of them.
  if (Math.abs(a.length - b.length) > 8) return Infinity;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const previous = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(distance);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
