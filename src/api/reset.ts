/**
 * Where `sluice reset` moves a pipeline's stored source positions (runtime/reset.ts). A source that
 * can be reset implements `Source.resetTo` (api/source.ts): it turns a target into the new position
 * of each partition it covers, checking it against what the source holds now.
 */

/** The `--to` of `sluice reset`, parsed. */
export type ResetTarget =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  /** The first record at or after this time (epoch ms). */
  | { readonly kind: 'time'; readonly ms: number }
  /** Explicit positions by partition key (`topic/partition`, `file:<name>`); null: forget the partition's position. */
  | { readonly kind: 'positions'; readonly positions: Readonly<Record<string, string | null>> }

/**
 * The new position of each partition a reset moves: a value to store, or null to forget the stored
 * one (the next run reads that partition as new). Partitions absent here keep their stored position.
 */
export type PositionMoves = Readonly<Record<string, string | null>>

/** The target as `--to` would spell it (for output and the reset history). */
export function describeTarget(target: ResetTarget): string {
  switch (target.kind) {
    case 'earliest':
    case 'latest':
      return target.kind
    case 'time':
      return new Date(target.ms).toISOString()
    case 'positions':
      return JSON.stringify(target.positions)
  }
}
