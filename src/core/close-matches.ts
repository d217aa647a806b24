/** Project keys near a mistyped one: both targets suggest them (REST desks, the local store's projects). */

/** Keys near `key`: edit distance up to 2 (1 for short keys), or one containing the other; closest first, at most 5. */
export function closeMatches(key: string, keys: readonly string[]): string[] {
  const wanted = key.toUpperCase();
  const limit = wanted.length <= 3 ? 1 : 2;
  return keys
    .map((k) => ({ k, d: distance(wanted, k.toUpperCase()) }))
    .filter(({ k, d }) => d <= limit || k.toUpperCase().includes(wanted) || wanted.includes(k.toUpperCase()))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, 5)
    .map(({ k }) => k);
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
