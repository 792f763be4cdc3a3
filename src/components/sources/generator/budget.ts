/**
 * How many records each partition may add in one batch. Records are numbered globally as
 * `sequence = index * partitions + partition`, and a batch takes the lowest sequence numbers
 * available, so record times (which follow the sequence) advance evenly across partitions.
 */

/** Records of partition `p` among the first `n` global sequence numbers. */
export function partitionShare(n: number, p: number, partitions: number): number {
  return n <= p ? 0 : Math.ceil((n - p) / partitions)
}

/**
 * The end index per partition after taking up to `budget` records with the lowest sequence
 * numbers, starting at `current` and never beyond `cap` (both per partition, indexes).
 */
export function takeLowest(budget: number, current: readonly number[], cap: readonly number[]): number[] {
  const next = [...current]
  let left = budget
  const roomOf = (p: number): number => (cap[p] as number) - (next[p] as number)
  let open = next.map((_, p) => p).filter((p) => roomOf(p) > 0)
  while (left > 0 && open.length > 0) {
    // Partitions at the lowest index hold the lowest sequence numbers (ties: lower partition first).
    const level = Math.min(...open.map((p) => next[p] as number))
    const low = open.filter((p) => next[p] === level)
    const above = Math.min(...open.filter((p) => (next[p] as number) > level).map((p) => next[p] as number))
    const step = Math.min(above - level, ...low.map(roomOf), Math.floor(left / low.length))
    if (step === 0) {
      for (const p of low.slice(0, left)) next[p] = (next[p] as number) + 1
      break
    }
    for (const p of low) next[p] = (next[p] as number) + step
    left -= step * low.length
    open = open.filter((p) => roomOf(p) > 0)
  }
  return next
}
