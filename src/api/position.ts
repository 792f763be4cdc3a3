/**
 * Source positions. A Position maps each partition key of a source to the position of the next
 * record to read there (a Kafka offset, or `done` for a finished file). Positions are plain JSON
 * so that they can be written to the checkpoint WAL and stored in PostgreSQL alongside the batch.
 */
export type Position = Readonly<Record<string, string>>

/** The records of one micro-batch: for each partition, from `start` (inclusive) to `end` (exclusive). */
export interface BatchRange {
  /** Position before the batch; a partition absent here was never read before. */
  readonly start: Position
  /** Position after the batch; only partitions that advance are listed. */
  readonly end: Position
}

/** Partitions whose end differs from their start. */
export function changedPartitions(range: BatchRange): string[] {
  return Object.keys(range.end).filter((p) => range.start[p] !== range.end[p])
}

/** Merges `update` over `base` (the position after applying a batch). */
export function advance(base: Position, update: Position): Position {
  return { ...base, ...update }
}
