/** "Did you mean" support for unknown keys and values: Levenshtein distance over known names. */

/** Edit distance between two strings (insert, delete, substitute each cost 1). */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost))
    }
    prev = cur
  }
  return prev[b.length] ?? 0
}

/**
 * The closest candidate to `word`, compared case-insensitively, or undefined when nothing is close
 * enough (a third of the word's length, at least 2 edits) to be a likely typo.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(w.length / 3)) + 1
  for (const c of candidates) {
    const d = levenshtein(w, c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

/** The suggestion text shown beside an issue: `did you mean "x"?`. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const c = closest(word, candidates)
  return c === undefined ? undefined : `did you mean "${c}"?`
}
