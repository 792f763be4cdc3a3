/**
 * What flows through Sluice. A source yields SourceRecords (bytes plus where they came from);
 * the engine decodes them into Rows (named values) that a sink writes. Every Row keeps a link to
 * its SourceRecord so that a failure at any stage can send the original bytes to the DLQ.
 */

/** One record as read from a source, before decoding. */
export interface SourceRecord {
  /** Partition key of the source's Position map, e.g. `orders/3` or `file:2026-11-25.ndjson`. */
  readonly partition: string
  /** Origin name shown to users: the Kafka topic or the file path. */
  readonly topic: string
  /** Kafka partition number, or 0 for sources without partitions. */
  readonly partitionNumber: number
  /** Offset within the partition (Kafka offset, line number), as a decimal string: offsets are 64-bit. */
  readonly offset: string
  readonly key: Buffer | null
  /** null is a tombstone. */
  readonly value: Buffer | null
  /** Record timestamp in epoch milliseconds (Kafka create/append time, file mtime). */
  readonly timestamp: number
  /** Kafka only: 0 when `timestamp` is the create time, 1 when it is the log-append time (as in Spark). */
  readonly timestampType?: 0 | 1
  /** File source only: the 1-based line of the file where the record starts. */
  readonly line?: number
  readonly headers: ReadonlyArray<readonly [string, Buffer]>
  /** Set by sources that decode themselves (CSV, generator): the record's fields, already named. */
  readonly fields?: Readonly<Record<string, unknown>>
  /**
   * Set by sources that parse records themselves (CSV) when this one could not be parsed: why,
   * with the file and line. The engine sends the record to the DLQ as RECORD_DECODE.
   */
  readonly decodeError?: string
}

/** Column values of one decoded record, keyed by column name. */
export type RowValues = Record<string, unknown>

/**
 * The value of a field, or undefined when the record has none of its own: a field named
 * `constructor` or `__proto__` is data like any other, never something inherited from Object.
 */
export function fieldOf(values: Readonly<RowValues>, name: string): unknown {
  return Object.hasOwn(values, name) ? values[name] : undefined
}

/** Sets a field as an own property (plain assignment to `__proto__` would replace the prototype instead). */
export function setField(values: RowValues, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true })
  else values[name] = value
}

/**
 * A record value's top-level fields as byte spans (src/engine/flat-json.ts): SPAN ints per field
 * from `spans[base]`, in the order written. `spans` is shared by many records.
 */
export interface FlatFields {
  readonly bytes: Buffer
  readonly spans: Int32Array
  readonly base: number
  readonly count: number
  /** True when no key has a byte >= 0x80 (case-insensitive matching is then ASCII). */
  readonly asciiKeys: boolean
}

/** A decoded record on its way to a sink. */
export interface Row {
  /** The record's fields. With `flat`, parsed when first read (src/engine/flat-row.ts). */
  readonly values: RowValues
  readonly source: SourceRecord
  /**
   * Set when nothing on the record path read the values: the value's fields as spans, which a
   * sink may copy from the bytes instead of reading `values` (src/engine/flat-json.ts).
   */
  readonly flat?: FlatFields
  /** Event time in epoch ms when a watermark is configured. */
  readonly eventTimeMs?: number
}
