import type { Position } from './position.ts'
import type { PositionMoves, ResetTarget } from './reset.ts'
import type { SourceRecord } from './record.ts'

/**
 * Which record metadata a source has (engine/metadata.ts): every source has Spark's Kafka columns
 * (key, value, topic, partition, offset, timestamp, headers; filled or null), the file source adds
 * file name and line. A new source names the kind its records fit; a new kind is new engine code.
 */
export type SourceKind = 'kafka' | 'file' | 'generator'

/**
 * What a record's JSON value is (`extract.envelope`): the record itself (`none`), or Kafka Connect's
 * JsonConverter envelope `{"schema": ..., "payload": ...}` whose payload is the record (`connect`:
 * what Connect sources and Debezium with schemas.enable=true write), or a Debezium change event
 * (`debezium`: its `after` is the row, `op` d deletes; engine/debezium.ts). Chosen in the config,
 * never guessed per record: a payload may well have a field named `schema`.
 */
export type ValueEnvelope = 'none' | 'connect' | 'debezium'

/** Read limits of one micro-batch (from maxOffsetsPerTrigger / maxRecordsPerTrigger / maxFilesPerTrigger / maxBytesPerTrigger). */
export interface ReadLimits {
  readonly maxRecords?: number
  readonly maxFiles?: number
  /**
   * Bytes of one batch. A source applies it when it plans (never while reading: the plan is what
   * the checkpoint WAL records and what a replay reads again), from what it knows at that point:
   * file sizes, or record sizes seen so far. At least one record or file goes into every batch.
   */
  readonly maxBytes?: number
}

/**
 * The partitions of a shared source that this worker owns (a consumer group assigns them). A source
 * without it is read whole by one worker. With it, plan() covers only owned partitions, and the
 * engine keeps its position, fence and state per partition: when `generation` moves, it takes the
 * owned partitions' positions from the store again (a new owner resumes where the last commit of any
 * worker ended, never from the group's committed offset).
 */
export interface PartitionOwnership {
  /** The partition keys (`topic/partition`) owned now; empty before the first assignment. */
  owned(): ReadonlySet<string>
  /** Bumped on every change of the owned set. */
  readonly generation: number
  /**
   * The engine's part in a revocation: the source awaits the hook before it gives partitions up, so
   * the batch in flight finishes first (and if it cannot, the store's fence refuses its commit).
   */
  onRevoke(hook: (revoked: readonly string[]) => Promise<void>): void
}

/**
 * The contract every source implements. The engine never sees Kafka or files: it asks a source
 * to plan a batch (decide where it ends), then to read exactly that range. Reading the same range
 * twice must yield the same records: that is what makes a re-run batch the same batch.
 */
export interface Source {
  /** Connects; throws a retryable SluiceError (SOURCE_UNAVAILABLE) when the source is down. */
  open(signal: AbortSignal): Promise<void>
  /**
   * Where a pipeline with no stored position starts (startingOffsets); partitions may be added later
   * by plan() when they appear.
   */
  initialPosition(signal: AbortSignal): Promise<Position>
  /**
   * The end of the next batch starting at `from`, bounded by `limits`, or null when no new data is
   * available. Partitions not in `from` start at their initial position.
   */
  plan(from: Position, limits: ReadLimits, signal: AbortSignal): Promise<Position | null>
  /** Reads every record in [from, to), in chunks, in partition order within each partition. */
  read(from: Position, to: Position, signal: AbortSignal): AsyncIterable<SourceRecord[]>
  /** Called after the batch ending at `to` committed in the sink (lag reporting, file cleanup). */
  committed?(to: Position): Promise<void>
  /** Latest available position per partition, for lag metrics; optional. */
  latest?(signal: AbortSignal): Promise<Position>
  /**
   * For `sluice reset` (never called by the engine): the new position of each partition for
   * `target`, given the `stored` positions; partitions it leaves out keep theirs. Throws
   * RESET_REFUSED naming the partition and value when the target does not fit the source (a
   * partition it does not have, an offset outside the log, a target kind it cannot take).
   * Absent: the source cannot be reset.
   */
  resetTo?(target: ResetTarget, stored: Position, signal: AbortSignal): Promise<PositionMoves>
  /** Partition ownership when several workers share the source (a consumer group); absent: this worker owns every partition. */
  readonly ownership?: PartitionOwnership
  /**
   * Stops fetching and releases connections. It is final: afterwards open(), initialPosition(),
   * plan(), read() and latest() reject with SHUTDOWN (never reconnect), and a read in progress
   * yields no further record. Closing twice is harmless.
   */
  close(): Promise<void>
}
