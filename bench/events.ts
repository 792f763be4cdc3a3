/**
 * The benchmark's events: six-column JSON of ~200 bytes (the shape of test/e2e/fixtures.ts, with a
 * longer note), and the same rows as PostgreSQL COPY text for the raw-COPY baseline.
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

/** The fields of event `i`. */
export function eventFields(i: number): { id: number; user_id: string; kind: string; amount: number; event_time: string; note: string } {
  return {
    id: i,
    user_id: `user-${i % 9973}`,
    kind: KINDS[i % 3] as string,
    amount: (i % 100000) / 100,
    event_time: new Date(T0 + i * 10).toISOString(),
    note: `${NOTE}-${i}`,
  }
}

/** The Kafka value of event `i` (JSON text). */
export function eventJson(i: number): string {
  return JSON.stringify(eventFields(i))
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
