/**
 * Debezium change events (`extract.envelope: "debezium"`): each value is `{before, after, source,
 * op, ts_ms}`, alone (JsonConverter with schemas.enable=false) or as the payload of Connect's
 * `{"schema": ..., "payload": ...}` wrapper (schemas.enable=true). The event says what happened to
 * one row of the source table:
 *
 * - `c` (insert), `r` (snapshot read), `u` (update): the row is `after`, upserted by the key.
 * - `d` (delete): the row's key, from `before` (the upsert key columns; a table with REPLICA
 *   IDENTITY DEFAULT still has its key there) or else from the record key (Debezium's key is the
 *   table's primary key, maybe itself Connect-wrapped), is deleted.
 * - `t` (truncate) and any other op are not applied: dead letters (RECORD_DECODE) with the reason,
 *   since skipping them silently would leave the mirror unequal to the source.
 *
 * With the wrapper, the row values of Connect's and Debezium's logical types (Decimal bytes, Date
 * days, MicroTimestamp µs, ...) become PostgreSQL values by the schema (connect-logical.ts).
 *
 * The tombstone Debezium sends after a delete (for log compaction) is skipped by the record path:
 * its delete was the `d` event's.
 */
import type { RowValues, SourceRecord } from '../api/record.ts'
import { recordConverter } from './connect-logical.ts'
import { connectPayload, decodeKey, describeJson, parseValue } from './decode.ts'
import { isExactNumber } from './exact-number.ts'

/** The parts of a change event beside its row, for the `__op`, `__ts_ms` and `__source` fields (metadata.ts). */
export interface ChangeEvent {
  readonly op: string
  readonly tsMs: unknown
  readonly source: unknown
}

/** What one change event does to the table; a string says why the record is a dead letter. */
export type ChangeOutcome =
  | { readonly kind: 'row'; readonly values: RowValues; readonly event: ChangeEvent }
  | { readonly kind: 'delete'; readonly key: RowValues }
  | string

const ROW_OPS: Readonly<Record<string, string>> = { c: 'create', r: 'read (snapshot)', u: 'update' }

/** Decodes one non-null value as a change event applied by `keys` (the upsert key columns). */
export function decodeChange(record: SourceRecord, keys: readonly string[]): ChangeOutcome {
  if (record.decodeError !== undefined) return record.decodeError
  if (record.value === null) return 'value is null (tombstone)'
  let parsed: unknown
  try {
    parsed = withLogicalValues(parseValue(record.value), record.value)
  } catch (err) {
    return (err as Error).message
  }
  if (!isObject(parsed)) return `value is ${describeJson(parsed)}, not a Debezium change event {"before", "after", "source", "op", "ts_ms"}`
  const op = parsed['op']
  if (typeof op !== 'string') {
    const fields = Object.keys(parsed).slice(0, 5).map((k) => JSON.stringify(k)).join(', ')
    return `value is not a Debezium change event (extract.envelope "debezium"): it has no "op" text field (its fields: ${fields || 'none'})`
  }
  if (Object.hasOwn(ROW_OPS, op)) {
    const after = parsed['after']
    if (!isObject(after)) return `Debezium op "${op}" (${ROW_OPS[op]}) has "after" ${describeJson(after)}, not the row (an object)`
    return { kind: 'row', values: after, event: { op, tsMs: parsed['ts_ms'] ?? null, source: parsed['source'] ?? null } }
  }
  if (op === 'd') return deleteKey(parsed['before'], record, keys)
  if (op === 't') return 'Debezium op "t" (truncate) is not applied: Sluice deletes rows by key only; empty the table yourself, or stop the connector from sending truncates (truncate.handling.mode / skipped.operations=t)'
  return `Debezium op ${JSON.stringify(op).slice(0, 40)} is not a change Sluice applies (c, r, u and d are)`
}

/**
 * The event of a value, with or without the Connect wrapper; with it, the row values of logical
 * types (Decimal bytes, Date days, MicroTimestamp µs) are converted by the schema (connect-logical.ts).
 * Throws an Error whose message is why a value does not fit its schema.
 */
function withLogicalValues(json: unknown, bytes: Buffer): unknown {
  const payload = connectPayload(json)
  if (payload === json) return json
  const convert = recordConverter((json as Record<string, unknown>)['schema'], bytes)
  if (convert === null) return payload
  try {
    return convert(payload)
  } catch (err) {
    throw new Error(`Debezium event does not match its schema: ${(err as Error).message}`)
  }
}

/** The key a delete removes: the key columns of `before` when it has them all, else the record key's. */
function deleteKey(before: unknown, record: SourceRecord, keys: readonly string[]): ChangeOutcome {
  if (isObject(before) && hasKey(before, keys)) return { kind: 'delete', key: Object.fromEntries(keys.map((k) => [k, before[k]])) }
  const key = decodeKey(record, keys, 'debezium')
  if (key !== null && hasKey(key, keys)) return { kind: 'delete', key: Object.fromEntries(keys.map((k) => [k, key[k]])) }
  return `Debezium delete (op "d") without its key: neither "before" nor the record key gives the upsert key columns ${keys.join(', ')}`
}

function hasKey(values: RowValues, keys: readonly string[]): boolean {
  return keys.every((k) => Object.hasOwn(values, k) && values[k] !== null && values[k] !== undefined)
}

function isObject(v: unknown): v is RowValues {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isExactNumber(v)
}
