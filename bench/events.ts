/**
 * The benchmark's events: six-column JSON of ~200 bytes (the shape of test/e2e/fixtures.ts, with a
 * longer note), and the same rows as PostgreSQL COPY text for the raw-COPY baseline. Three shapes
 * of the same columns, a topic each: plain (every id once), windowed (10,000 keys, event time
 * advancing so 1-minute windows close) and duplicated (10 % repeats of earlier events).
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
