/**
 * The benchmark's events: six-column JSON of ~200 bytes (the shape of test/e2e/fixtures.ts, with a
 * longer note), and the same rows as PostgreSQL COPY text for the raw-COPY baseline. Three shapes
 * of the same columns, a topic each: plain (every id once), windowed (10,000 keys, event time
 * advancing so 1-minute windows close) and duplicated (10 % repeats of earlier events); and a
 * Debezium change stream of rows of those columns (creates, updates, deletes by key: see CDC).
 */

const KINDS = ['click', 'view', 'buy'] as const
let NOTE = 'n'.repeat(96)

/** Size of the JSON value of event 0 with the default note (~200 bytes). */
const DEFAULT_VALUE_BYTES = 201

/** Pads the note so that each event's JSON value is about `bytes` bytes (--value-bytes; default ~200). */
export function setValueBytes(bytes: number): void {
  NOTE = 'n'.repeat(Math.max(1, 96 + bytes - DEFAULT_VALUE_BYTES))
}
const T0 = Date.UTC(2026, 0, 1)

/** One event's columns. */
export interface EventFields {
  readonly id: number
  readonly user_id: string
  readonly kind: string
  readonly amount: number
  readonly event_time: string
  readonly note: string
}

/** The fields of event `i`. */
export function eventFields(i: number): EventFields {
  return {
    id: i,
    user_id: `user-${i % 9973}`,
    kind: KINDS[i % 3] as string,
    amount: (i % 100000) / 100,
    event_time: new Date(T0 + i * 10).toISOString(),
    note: `${NOTE}-${i}`,
  }
}

/** A stream of events the bench produces to a topic of its own (named with `suffix`). */
export interface EventShape {
  /** Appended to the topic name; '' for the plain events, so their topics keep their names. */
  readonly suffix: string
  readonly fields: (i: number) => EventFields
  /** The whole Kafka record of event `i` on a topic of `partitions` partitions; default key `i`, value `eventJson(i)`, partition i mod P. */
  readonly message?: (i: number, partitions: number) => ShapeMessage
}

/** One Kafka record of a shape. */
export interface ShapeMessage {
  readonly key: string
  readonly value: string
  readonly partition: number
}

/** The Kafka record of event `i` of `shape`. */
export function shapeMessage(shape: EventShape, i: number, partitions: number): ShapeMessage {
  return shape.message ? shape.message(i, partitions) : { key: String(i), value: eventJson(i, shape), partition: i % partitions }
}

/** The note of a row of version `v` (what eventFields(v).note is), for checks in SQL: NOTE_PREFIX || '-' || v. */
export function notePrefix(): string {
  return NOTE
}

/** Every id once, 10 ms of event time apart (the append/upsert scenarios and the COPY baseline). */
export const PLAIN: EventShape = { suffix: '', fields: eventFields }

/** Distinct keys of the windowed shape. */
export const WINDOW_KEYS = 10_000
/** Length of a window of the windowed scenario. */
export const WINDOW_MS = 60_000
/**
 * Event time step of the windowed shape, in thousandths of a millisecond: 0.6 ms, so a minute holds
 * 100,000 events, 10 per key, and 1M events span 10 windows (100,000 key-windows).
 */
const WINDOW_STEP_MICROS = 600

/** The windowed shape: key `user-(i mod 10,000)`, event time T0 + 0.6 ms x i (in order, as the ids). */
export const WINDOWED: EventShape = {
  suffix: '-win',
  fields: (i) => ({ ...eventFields(i), user_id: `user-${i % WINDOW_KEYS}`, event_time: new Date(windowedTime(i)).toISOString() }),
}

/** Event time (epoch ms) of windowed event `i`. */
export function windowedTime(i: number): number {
  return T0 + Math.floor((i * WINDOW_STEP_MICROS) / 1000)
}

/** How many (key, window) pairs the first `n` windowed events fall into: each is written once or still open. */
export function windowedPairs(n: number): number {
  const pairs = new Set<number>()
  for (let i = 0; i < n; i++) pairs.add(Math.floor((windowedTime(i) - T0) / WINDOW_MS) * WINDOW_KEYS + (i % WINDOW_KEYS))
  return pairs.size
}

/**
 * Id carried by duplicated event `i`: in each block of 10 events, the first 9 carry the next new
 * ids and the 10th repeats an id of 0-99 blocks earlier (up to ~1,000 records and ~10 s of event
 * time back, as a producer's retries arrive), so 10 % of the events are duplicates.
 */
export function duplicatedId(i: number): number {
  const block = Math.floor(i / 10)
  if (i % 10 < 9) return block * 9 + (i % 10)
  const back = Math.min(block, (block * 37) % 100)
  return (block - back) * 9 + (block % 9)
}

/** Distinct ids among the first `n` duplicated events (ids 0 .. this - 1). */
export function duplicatedDistinct(n: number): number {
  return Math.floor(n / 10) * 9 + Math.min(n % 10, 9)
}

/** The duplicated shape: event `i` is plain event `duplicatedId(i)`, payload and all (a retry is the same event). */
export const DUPLICATED: EventShape = { suffix: '-dup', fields: (i) => eventFields(duplicatedId(i)) }

/**
 * The Debezium change stream (issue 14): what Debezium's PostgreSQL connector writes for a table
 * with the six columns and primary key id, with JsonConverter schemas.enable=false (no schema
 * part), REPLICA IDENTITY DEFAULT (`before` is null for c and u, the key with null columns for d),
 * decimal.handling.mode=double, tombstones.on.delete=false (no tombstone after a delete).
 *
 * Event i is on partition p = i mod P, the `j`-th event there (j = floor(i / P)); every id of
 * partition p is L x P + p for a local id L, and the record key is `{"id": id}`, so the events of
 * a key are all on the partition of its key (id mod P), in order, as Debezium's keyed records are.
 * The events of a partition come in blocks of 20 (b = floor(j / 20), position j mod 20):
 * - positions 0-12 create local ids 13b .. 13b+12 (65 %);
 * - positions 13-18 update (30 %) slot s in 0..11 of block b - back, back a hash of (b, k) in
 *   0 .. min(b, 999) (up to ~20,000 events of the partition before: most updates hit a row an
 *   earlier batch wrote); slots 0-11 are never deleted except slot 11 of blocks 0 .. D-1, which
 *   updates then avoid (they take slot 10);
 * - position 19 deletes (5 %) slot 12 of block b - D (D = 500 blocks, ~10,000 events before), or,
 *   in the first D blocks, slot 11 of its own block (created at position 11): every delete is of a
 *   live row, none twice, and no update or delete follows a key's delete.
 * The row of event i (its `after`) is plain event i's fields with the key's id: the final row of an
 * id is that of its last create or update, so a check can compute the whole final table (cdcFinal).
 */
export const CDC_DELETE_BACK = 500
const CDC_UPDATE_BACK = 1000

/** What event `i` of the change stream does: its op, the id it is about, and its partition. */
export function cdcEvent(i: number, partitions: number): { op: 'c' | 'u' | 'd'; id: number; partition: number } {
  const p = i % partitions
  const j = Math.floor(i / partitions)
  const b = Math.floor(j / 20)
  const pos = j % 20
  let local: number
  let op: 'c' | 'u' | 'd'
  if (pos < 13) {
    op = 'c'
    local = 13 * b + pos
  } else if (pos < 19) {
    op = 'u'
    const k = pos - 13
    const h = (Math.imul(b, 2654435761) ^ Math.imul(k + 1, 40503)) >>> 0
    const tb = b - (h % Math.min(b + 1, CDC_UPDATE_BACK))
    let slot = (h >>> 12) % 12
    if (tb < CDC_DELETE_BACK && slot === 11) slot = 10
    local = 13 * tb + slot
  } else {
    op = 'd'
    local = b >= CDC_DELETE_BACK ? 13 * (b - CDC_DELETE_BACK) + 12 : 13 * b + 11
  }
  return { op, id: local * partitions + p, partition: p }
}

/** The row of change event `i` (its `after`): plain event i's fields with the id of its key. */
export function cdcRow(i: number, id: number): EventFields {
  return { ...eventFields(i), id }
}

const CDC_TS0 = Date.UTC(2026, 0, 1, 12)

/** The Debezium value of change event `i` (JSON text), as the PostgreSQL connector writes it. */
export function cdcJson(i: number, partitions: number): string {
  const e = cdcEvent(i, partitions)
  const tsMs = CDC_TS0 + Math.floor(i / 10)
  const lsn = 24_000_000 + i * 64
  const source = `{"version":"3.1.2.Final","connector":"postgresql","name":"bench","ts_ms":${tsMs - 3},"snapshot":"false","db":"test","sequence":"[\\"${lsn - 64}\\",\\"${lsn}\\"]","ts_us":${(tsMs - 3) * 1000},"ts_ns":${(tsMs - 3) * 1_000_000},"schema":"public","table":"events","txId":${1000 + Math.floor(i / 5)},"lsn":${lsn},"xmin":null}`
  const before = e.op === 'd' ? `{"id":${e.id},"user_id":null,"kind":null,"amount":null,"event_time":null,"note":null}` : 'null'
  const after = e.op === 'd' ? 'null' : JSON.stringify(cdcRow(i, e.id))
  return `{"before":${before},"after":${after},"source":${source},"transaction":null,"op":"${e.op}","ts_ms":${tsMs},"ts_us":${tsMs * 1000},"ts_ns":${tsMs * 1_000_000}}`
}

/** The change stream: key `{"id": N}`, the partition of the key, Debezium's value. */
export const CDC: EventShape = {
  suffix: '-cdc',
  fields: (i) => cdcRow(i, i),
  message: (i, partitions) => {
    const e = cdcEvent(i, partitions)
    return { key: `{"id":${e.id}}`, value: cdcJson(i, partitions), partition: e.partition }
  },
}

/**
 * The final table after the first `n` change events: for each live id the event whose row it holds
 * (its last c or u), computed by replaying cdcEvent; throws when the stream breaks its own rules (an
 * update or delete of an id that is not live, a create of a live one).
 */
export function cdcFinal(n: number, partitions: number): { ids: number[]; versions: number[]; creates: number; updates: number; deletes: number } {
  const last = new Int32Array(n + partitions).fill(-1) // -1 never created, -2 deleted, else the event
  let creates = 0
  let updates = 0
  let deletes = 0
  for (let i = 0; i < n; i++) {
    const e = cdcEvent(i, partitions)
    const was = last[e.id] ?? -1
    if (e.op === 'c') {
      if (was >= 0) throw new Error(`change event ${i} creates id ${e.id}, which is live`)
      last[e.id] = i
      creates++
    } else if (e.op === 'u') {
      if (was < 0) throw new Error(`change event ${i} updates id ${e.id}, which is not live`)
      last[e.id] = i
      updates++
    } else {
      if (was < 0) throw new Error(`change event ${i} deletes id ${e.id}, which is not live`)
      last[e.id] = -2
      deletes++
    }
  }
  const ids: number[] = []
  const versions: number[] = []
  for (let id = 0; id < last.length; id++) {
    const v = last[id] ?? -1
    if (v >= 0) {
      ids.push(id)
      versions.push(v)
    }
  }
  return { ids, versions, creates, updates, deletes }
}

/** The Kafka value of event `i` of `shape` (JSON text). */
export function eventJson(i: number, shape: EventShape = PLAIN): string {
  return JSON.stringify(shape.fields(i))
}

/** The COPY text line (tab-separated, newline-terminated) of event `i`; no field needs escaping. */
export function eventCopyLine(i: number): string {
  const e = eventFields(i)
  return `${e.id}\t${e.user_id}\t${e.kind}\t${e.amount}\t${e.event_time}\t${e.note}\n`
}

/** Columns of the benchmark table, in COPY order. */
export const COLUMNS = ['id', 'user_id', 'kind', 'amount', 'event_time', 'note'] as const

/** DDL of the benchmark table; `pk` makes `id` the primary key (upsert). */
export function tableDdl(table: string, pk: boolean): string {
  return `CREATE TABLE ${table} (id bigint${pk ? ' PRIMARY KEY' : ''}, user_id text, kind text, amount numeric, event_time timestamptz, note text)`
}
