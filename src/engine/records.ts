/**
 * The record path of one micro-batch: decode -> extract schema -> transforms -> event time and
 * watermark. Each source record ends in exactly one place: a row for the table, a delete (upsert
 * tombstone, Debezium `d` event), a skipped tombstone, a dead letter (with the reason), a late
 * record, or filtered by a transform step. Nothing leaves this function silently: every outcome is
 * counted.
 */
import { type FieldGetter, fieldGetter } from '../api/field-path.ts'
import { type Row, type RowValues, type SourceRecord, fieldOf } from '../api/record.ts'
import type { ValueEnvelope } from '../api/source.ts'
import { SluiceError } from '../errors.ts'
import type { DeadLetter } from '../api/writer.ts'
import { type ChangeEvent, decodeChange } from './debezium.ts'
import { decodeKey, decodeValues } from './decode.ts'
import { type MetadataAdder, keyJson, metadataAdder } from './metadata.ts'
import type { RecordValidator } from './record-schema.ts'
import { BatchWatermark, parseEventTime } from './watermark.ts'
import { type LatenessRule, newestWindow } from './lateness-rule.ts'
import { type FlatScan, scanInto } from './flat-json.ts'
import { FlatRow, type FlatUse } from './flat-row.ts'

export type { DeadLetter }

/** Everything the record path needs to know about the pipeline. */
export interface RecordPathOptions {
  readonly validator: RecordValidator | null
  /** Transform steps composed; null means the record is filtered out. */
  readonly transform: ((values: RowValues) => RowValues | null) | null
  /**
   * The event-time watermark. `perPartition` (absent: on when workers share the pipeline) has the
   * store compute it per partition (Flink's rule) with `idleMs` as the idleness timeout.
   */
  readonly watermark: {
    readonly column: string
    readonly delayMs: number
    readonly perPartition?: boolean
    readonly idleMs?: number
    /** Which input is late (absent: event time <= watermark); the aggregate step's rule (aggregate.ts). */
    readonly lateness?: LatenessRule
  } | null
  /**
   * Upsert key columns when tombstones (or, with the `debezium` envelope, `d` events) delete; null
   * when tombstones are skipped. The `debezium` envelope needs them and skips tombstones.
   */
  readonly deleteKeys: readonly string[] | null
  /**
   * Key columns that the column mapping fills from a path (`id` from `keyJson.id`: Connect's
   * pk.mode=record_key): a tombstone's key column is read by the same path, over the key's own
   * fields and the `key` and `keyJson` metadata, so it deletes the row its record wrote.
   */
  readonly deleteKeyPaths?: Readonly<Record<string, string>>
  /**
   * Adds the record metadata fields the query can use (metadata.ts), after the extract schema and
   * before the steps; null adds none; absent adds every one (the Kafka set).
   */
  readonly metadata?: MetadataAdder | null
  /** The envelope the source's JSON values are in (absent: `none`; decode.ts unwraps it). */
  readonly envelope?: ValueEnvelope
  /**
   * Set when the sink picks the table by the record's topic (a `{topic}` template in load.table): a
   * delete is of its key in its own topic's table, so deletes are kept per topic. `unroutable` says
   * why a topic has no table (its name too long), or null; its records go to the DLQ (RECORD_ROUTE).
   */
  readonly routing?: { readonly unroutable: (topic: string) => string | null }
  /**
   * Set when no step after the record path reads every row's values (no aggregate or deduplicate
   * step). When nothing on the path reads them either, rows are kept as spans of their bytes
   * (FlatRow), parsed only if the sink asks (flat-json.ts). It also says whether the last batches'
   * rows stayed unparsed (FlatUse: when most did not, this batch does not scan).
   */
  readonly lazyValues?: FlatUse
}

/** The outcome of the record path for one batch. */
export interface ProcessedBatch {
  readonly rows: Row[]
  readonly deletes: RowValues[]
  /** The topic of each of `deletes`, in the same order (routing by topic sends a delete to its topic's table). */
  readonly deleteTopics: string[]
  readonly dead: DeadLetter[]
  readonly late: DeadLetter[]
  recordsRead: number
  filtered: number
  tombstonesSkipped: number
  maxTimestampMs: number | null
  nextWatermarkMs: number | null
  /** The largest on-time event time per partition (with a watermark), for the per-partition rule. */
  eventTimes: Record<string, number>
}

/** Accumulates one batch's records through the record path. */
export class RecordPath {
  readonly #options: RecordPathOptions
  readonly #watermark: BatchWatermark | null
  readonly #metadata: MetadataAdder | null
  /** The event-time column's reader (a field path is parsed once per batch, not per record). */
  readonly #eventTime: FieldGetter | null
  readonly #envelope: ValueEnvelope
  /**
   * Deletes of this batch (tombstones, Debezium `d` events) by key. The sink applies deletes after
   * the upserts, so a key whose delete is followed by a new record in the same batch must not be
   * deleted: its entry goes.
   */
  readonly #deletes = new Map<string, { readonly key: RowValues; readonly topic: string }>()
  /** Why a topic cannot be routed (null: it can), asked once per topic and batch. */
  readonly #unroutable = new Map<string, string | null>()
  readonly #deletePaths: ReadonlyArray<readonly [string, FieldGetter]>
  /** Set when no step of the path reads a record's values and this batch scans (see RecordPathOptions.lazyValues). */
  readonly #flat: FlatUse | null
  /** The last scan's spans (scanInto), copied into its row. */
  readonly #scan: FlatScan = { spans: new Int32Array(0), base: 0, count: 0, asciiKeys: true }
  readonly batch: ProcessedBatch

  constructor(options: RecordPathOptions, watermarkMs: number | null) {
    this.#options = options
    this.#watermark = options.watermark ? new BatchWatermark(watermarkMs, options.watermark.delayMs) : null
    this.#metadata = options.metadata === undefined ? EVERY_KAFKA_FIELD : options.metadata
    this.#eventTime = options.watermark ? fieldGetter(options.watermark.column) : null
    this.#envelope = options.envelope ?? 'none'
    this.#deletePaths = Object.entries(options.deleteKeyPaths ?? {}).map(([column, path]) => [column, fieldGetter(path)] as const)
    const flat =
      options.lazyValues !== undefined &&
      options.validator === null &&
      options.transform === null &&
      options.watermark === null &&
      this.#metadata === null &&
      this.#envelope === 'none' &&
      options.deleteKeys === null
    this.#flat = flat && options.lazyValues.begin() ? options.lazyValues : null
    if (this.#envelope === 'debezium' && options.deleteKeys === null) throw new SluiceError('INTERNAL', 'the debezium envelope needs the upsert key columns (deleteKeys)')
    this.batch = {
      rows: [],
      deletes: [],
      deleteTopics: [],
      dead: [],
      late: [],
      recordsRead: 0,
      filtered: 0,
      tombstonesSkipped: 0,
      maxTimestampMs: null,
      nextWatermarkMs: watermarkMs,
      eventTimes: {},
    }
  }

  /** Routes one chunk of source records. */
  add(records: readonly SourceRecord[]): void {
    const b = this.batch
    for (const record of records) {
      b.recordsRead++
      if (b.maxTimestampMs === null || record.timestamp > b.maxTimestampMs) b.maxTimestampMs = record.timestamp
      this.#route(record)
    }
  }

  /** Closes the batch: computes the watermark for the next batch. */
  finish(): ProcessedBatch {
    if (this.#watermark) {
      this.batch.nextWatermarkMs = this.#watermark.next()
      this.batch.eventTimes = this.#watermark.partitionMaxima()
    }
    for (const d of this.#deletes.values()) {
      this.batch.deletes.push(d.key)
      this.batch.deleteTopics.push(d.topic)
    }
    this.#deletes.clear()
    return this.batch
  }

  /** Why a record with this event time is late under the pipeline's lateness rule, or null when it is on time. */
  #lateReason(eventTimeMs: number, rule: LatenessRule | undefined): string | null {
    const current = this.#watermark?.current ?? null
    if (current === null) return null
    const watermark = new Date(current).toISOString()
    if (rule === undefined || rule.kind === 'event') {
      return eventTimeMs <= current ? `event time ${new Date(eventTimeMs).toISOString()} is at or below the watermark ${watermark}` : null
    }
    if (rule.kind === 'never') return null
    if (rule.kind === 'session') {
      const end = eventTimeMs + rule.gapMs
      if (end > current) return null
      return `session [${new Date(eventTimeMs).toISOString()}, ${new Date(end).toISOString()}) of event time ${new Date(eventTimeMs).toISOString()} ended at or before the watermark ${watermark}`
    }
    const { start, end } = newestWindow(eventTimeMs, rule.window)
    if (end > current) return null
    const which = (rule.window.slideMs ?? rule.window.durationMs) < rule.window.durationMs ? 'newest window' : 'window'
    return `${which} [${new Date(start).toISOString()}, ${new Date(end).toISOString()}) of event time ${new Date(eventTimeMs).toISOString()} ended at or before the watermark ${watermark}`
  }

  /** A record for a key deleted earlier in the batch brings the key back: the delete is void. */
  #supersedeDelete(values: RowValues, record: SourceRecord): void {
    const keys = this.#options.deleteKeys
    if (keys !== null && this.#deletes.size > 0) this.#deletes.delete(this.#deleteId(values, keys, record))
  }

  /** The identity of a delete: its key, and its topic when each topic has a table of its own. */
  #deleteId(key: RowValues, keys: readonly string[], record: SourceRecord): string {
    return this.#options.routing === undefined ? keyOf(key, keys) : `${record.topic}\u0000${keyOf(key, keys)}`
  }

  #addDelete(key: RowValues, keys: readonly string[], record: SourceRecord): void {
    this.#deletes.set(this.#deleteId(key, keys, record), { key, topic: record.topic })
  }

  /** A tombstone's key columns: the key's fields, and those the column mapping reads by a path (deleteKeyPaths). */
  #tombstoneKey(record: SourceRecord, keys: readonly string[]): RowValues | null {
    const decoded = decodeKey(record, keys, this.#envelope)
    if (this.#deletePaths.length === 0) return decoded
    const source: RowValues = { ...decoded, key: record.key === null ? null : record.key.toString('utf8'), keyJson: keyJson(record) }
    const out: RowValues = { ...decoded }
    for (const [column, get] of this.#deletePaths) {
      const v = get(source)
      if (v !== undefined) out[column] = v
      else delete out[column]
    }
    return out
  }

  /** Why the record's topic has no table (routing by topic), or null. */
  #routeProblem(record: SourceRecord): string | null {
    const routing = this.#options.routing
    if (routing === undefined) return null
    let reason = this.#unroutable.get(record.topic)
    if (reason === undefined) {
      reason = routing.unroutable(record.topic)
      this.#unroutable.set(record.topic, reason)
    }
    return reason
  }

  /**
   * The values of a Debezium change event's row, with the event for its fields; or null when the
   * record was routed already (a delete, a dead letter).
   */
  #change(record: SourceRecord, keys: readonly string[]): { values: RowValues; event: ChangeEvent } | null {
    const outcome = decodeChange(record, keys)
    if (typeof outcome === 'string') {
      this.batch.dead.push({ record, code: 'RECORD_DECODE', reason: outcome })
      return null
    }
    if (outcome.kind === 'delete') {
      this.#addDelete(outcome.key, keys, record)
      return null
    }
    return outcome
  }

  #route(record: SourceRecord): void {
    const b = this.batch
    const unroutable = this.#routeProblem(record)
    if (unroutable !== null) {
      b.dead.push({ record, code: 'RECORD_ROUTE', reason: unroutable })
      return
    }
    if (record.fields === undefined && record.value === null) {
      const keys = this.#options.deleteKeys
      // Debezium's tombstone follows its delete event, which deleted the row already.
      if (keys === null || this.#envelope === 'debezium') {
        b.tombstonesSkipped++
        return
      }
      const key = this.#tombstoneKey(record, keys)
      if (key === null || keys.some((k) => key[k] === undefined || key[k] === null)) {
        b.dead.push({ record, code: 'RECORD_DECODE', reason: `tombstone key does not give the upsert key columns ${keys.join(', ')}` })
        return
      }
      this.#addDelete(key, keys, record)
      return
    }
    if (this.#flat !== null && record.fields === undefined && record.decodeError === undefined && record.value !== null) {
      // A value the scan cannot take (not a plain JSON object) is decoded below, with its verdict.
      if (scanInto(record.value, this.#scan)) {
        b.rows.push(new FlatRow(record, this.#scan, this.#flat))
        return
      }
    }
    let change: ChangeEvent | undefined
    let values: RowValues | null
    if (this.#envelope === 'debezium') {
      const row = this.#change(record, this.#options.deleteKeys ?? [])
      if (row === null) return
      values = row.values
      change = row.event
    } else {
      const decoded = decodeValues(record, this.#envelope)
      if (typeof decoded === 'string') {
        b.dead.push({ record, code: 'RECORD_DECODE', reason: decoded })
        return
      }
      values = decoded
    }
    if (this.#options.validator) {
      const violation = this.#options.validator(values)
      if (violation !== null) {
        b.dead.push({ record, code: 'RECORD_SCHEMA', reason: violation })
        return
      }
    }
    // The schema describes the payload; key, topic, ... join it for the steps and the table.
    if (this.#metadata) this.#metadata(values, record, change)
    if (this.#options.transform) {
      try {
        values = this.#options.transform(values)
      } catch (err) {
        // A value a step cannot convert (cast) is this record's problem, not the batch's.
        const code = err instanceof SluiceError ? err.code : 'RECORD_TRANSFORM'
        b.dead.push({ record, code, reason: err instanceof Error ? err.message : String(err) })
        return
      }
      if (values === null) {
        b.filtered++
        return
      }
    }
    const wm = this.#options.watermark
    if (wm && this.#watermark && this.#eventTime) {
      const raw = this.#eventTime(values)
      const eventTimeMs = parseEventTime(raw)
      if (eventTimeMs === null) {
        const shown = raw === undefined ? 'missing' : `unparsable (${JSON.stringify(raw)?.slice(0, 80)})`
        b.dead.push({ record, code: 'RECORD_EVENT_TIME', reason: `event time column "${wm.column}" is ${shown}` })
        return
      }
      const late = this.#lateReason(eventTimeMs, wm.lateness)
      if (late !== null) {
        b.late.push({ record, code: 'LATE_DATA', reason: late })
        return
      }
      this.#watermark.observe(eventTimeMs, record.partition)
      this.#supersedeDelete(values, record)
      b.rows.push({ values, source: record, eventTimeMs })
      return
    }
    this.#supersedeDelete(values, record)
    b.rows.push({ values, source: record })
  }
}

/** Why the record path skipped a tombstone, for `sluice test` and `sluice dlq replay`. */
export function tombstoneSkipReason(options: RecordPathOptions): string {
  return options.envelope === 'debezium'
    ? 'tombstone (null value) skipped: Debezium sends it after a delete event, which deleted the row'
    : 'tombstone (null value) skipped: deletes need writeMode upsert with deleteOnTombstone'
}

/** The key a record the record path took as a delete (a tombstone, a Debezium d event) deletes. */
export function deletedKey(record: SourceRecord, options: RecordPathOptions): RowValues {
  const keys = options.deleteKeys ?? []
  if (options.envelope !== 'debezium') return decodeKey(record, keys, options.envelope) ?? {}
  const change = decodeChange(record, keys)
  return typeof change === 'object' && change.kind === 'delete' ? change.key : {}
}

const EVERY_KAFKA_FIELD = metadataAdder('kafka', () => true)

/** A map key for the upsert key columns of a row (JSON of their values, in key order). */
function keyOf(values: RowValues, keys: readonly string[]): string {
  return JSON.stringify(keys.map((k) => fieldOf(values, k) ?? null))
}
