// "Did you mean ...?": the known names closest to a misspelt one (edit distance).

/** Levenshtein distance, stopping early once it exceeds `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]!);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Known names within a small edit distance of `word` (closest first), at most 3. */
export function suggestions(word: string, known: Iterable<string>): string[] {
  const max = Math.max(2, Math.floor(word.length / 3));
  const scored: Array<[number, string]> = [];
  for (const k of known) {
    // `pkg/name` types: the same name in another package is close too.
    const sameTail = word.includes('/') && k.includes('/') && k.split('/').pop() === word.split('/').pop();
    const d = sameTail ? 1 : distance(word.toLowerCase(), k.toLowerCase(), max);
    if (d <= max && k !== word) scored.push([d, k]);
  }
  return scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).slice(0, 3).map(([, k]) => k);
}

/** `; did you mean 'a' or 'b'?`, or '' when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const s = suggestions(word, known);
  return s.length ? `; did you mean ${s.map((x) => `'${x}'`).join(' or ')}?` : '';
}
