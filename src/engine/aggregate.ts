/**
 * The aggregate step, one micro-batch at a time. The running result lives in the target table
 * itself: each batch reduces its on-time rows (after decode, schema, per-row transforms and the
 * watermark) to one partial row per group, and the table writer merges the partials into the table in the
 * batch's own transaction (`INSERT … ON CONFLICT (keys) DO UPDATE`, rules from `mergeRules`). The
 * merge commits with the batch's tracker row, so a replayed batch is skipped as a duplicate and no
 * record is counted twice.
 *
 * Output columns of a step: the `groupBy` columns; with a `window`, `window_start` and `window_end`
 * (`[start, end)`, aligned to the epoch plus `startTime`; a sliding window's record counts in every
 * window that covers it, state/windows.ts); one column per aggregation; and, for each `avg`
 * named X, the hidden running pair `X__sum` and `X__count` from which X is recomputed on merge.
 * SQL semantics: count without a field counts rows, with a field its non-null values; sum, min, max
 * and avg ignore nulls and are null when every value is. Sums are exact decimals (decimal.ts).
 * A row that cannot be aggregated (a null group column: NULLs never conflict, so the group could
 * not be keyed; a non-numeric value to sum; no parsable window time) is a dead letter, counted once.
 */
import { fieldAt } from '../api/field-path.ts'
import { type Row, type RowValues, type SourceRecord, setField } from '../api/record.ts'
import type { MergeRule } from '../api/writer.ts'
import type { ErrorCode } from '../errors.ts'
import type { TransformStep } from '../config/types.ts'
import { decimalText, toDecimal } from './decimal.ts'
import { type Partial, emptyPartial, foldValue, isOrderable, partialResult } from './state/partial.ts'
import type { DeadLetter } from './records.ts'
import { parseEventTime } from './watermark.ts'
import type { AggregationSpec } from './state/group-state.ts'
import { type WindowSpec, assignWindows } from './state/windows.ts'

/** The aggregate transform step. */
export type AggregateSpec = Omit<Extract<TransformStep, { type: 'aggregate' }>, 'type'>

/** One batch reduced to partial aggregates. */
export interface AggregatedBatch {
  /** One row per group; its `source` is the group's first record (its representative). */
  readonly rows: Row[]
  /** Every source record folded into each aggregate row, for dead-lettering a refused row whole. */
  readonly members: Map<Row, readonly SourceRecord[]>
  /** Rows that could not be aggregated. */
  readonly dead: DeadLetter[]
}

export const WINDOW_START = 'window_start'
export const WINDOW_END = 'window_end'

/** The step's window as the window functions take it (null without one). */
export function windowSpecOf(spec: AggregateSpec): WindowSpec | null {
  const w = spec.window
  if (w === undefined) return null
  return { durationMs: w.duration, ...(w.slide === undefined ? {} : { slideMs: w.slide }), ...(w.startTime === undefined ? {} : { startTimeMs: w.startTime }) }
}

/** The step's aggregations in the file's order, as the state functions take them. */
export function aggregationSpecs(spec: AggregateSpec): AggregationSpec[] {
  return Object.entries(spec.aggregations).map(([name, a]) => ({ name, fn: a.fn, ...(a.field === undefined ? {} : { field: a.field }) }))
}

/** Names of the hidden running pair of an `avg` column. */
export function avgParts(name: string): { sum: string; count: string } {
  return { sum: `${name}__sum`, count: `${name}__count` }
}

/** The table key of a step's result: the group columns, plus window_start when windowed. */
export function aggregateKey(spec: AggregateSpec): string[] {
  return spec.window === undefined && spec.session === undefined ? [...spec.groupBy] : [...spec.groupBy, WINDOW_START]
}

/** Column -> merge rule of every aggregated column (hidden avg parts included). */
export function mergeRules(spec: AggregateSpec): Record<string, MergeRule> {
  const rules: Record<string, MergeRule> = {}
  for (const [name, { fn }] of Object.entries(spec.aggregations)) {
    if (fn === 'avg') {
      const parts = avgParts(name)
      rules[parts.sum] = 'sum'
      rules[parts.count] = 'count'
    }
    rules[name] = fn
  }
  return rules
}

/**
 * Column types for creating the result table (load schema + autoCreateTable): window bounds are
 * timestamptz, counts bigint, sums and avg parts numeric, avg double precision; group columns and
 * min/max have no fixed type and must come from the load schema. `hidden`: with the avg parts
 * (the merge recomputes an average from them; append mode writes final rows without them).
 */
export function aggregateColumnTypes(spec: AggregateSpec, hidden = true): Record<string, string> {
  const types: Record<string, string> = {}
  if (spec.window !== undefined || spec.session !== undefined) {
    types[WINDOW_START] = 'timestamptz'
    types[WINDOW_END] = 'timestamptz'
  }
  for (const [name, { fn }] of Object.entries(spec.aggregations)) {
    if (fn === 'count') types[name] = 'bigint'
    else if (fn === 'sum') types[name] = 'numeric'
    else if (fn === 'avg') {
      const parts = avgParts(name)
      types[name] = 'double precision'
      if (hidden) {
        types[parts.sum] = 'numeric'
        types[parts.count] = 'bigint'
      }
    }
  }
  return types
}

interface Group {
  readonly values: RowValues
  partials: Partial[]
  readonly members: SourceRecord[]
}

function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v)
}

type Entry = readonly [name: string, fn: AggregateSpec['aggregations'][string]['fn'], field: string | undefined]

/** Checks one row's inputs; returns why it cannot be aggregated, or null. */
function problem(values: RowValues, spec: AggregateSpec, entries: readonly Entry[]): { code: ErrorCode; reason: string } | null {
  for (const g of spec.groupBy) {
    const v = fieldAt(values, g)
    if (v === undefined || v === null) return { code: 'RECORD_TRANSFORM', reason: `aggregate: group column "${g}" is ${v === undefined ? 'missing' : 'null'} (a null key cannot be merged into the table)` }
  }
  const timed = spec.window ?? spec.session
  if (timed !== undefined && parseEventTime(fieldAt(values, timed.column)) === null) {
    return { code: 'RECORD_EVENT_TIME', reason: `aggregate: ${spec.window === undefined ? 'session' : 'window'} column "${timed.column}" is missing or not a time` }
  }
  for (const [name, fn, field] of entries) {
    if (field === undefined || fn === 'count') continue
    const v = fieldAt(values, field)
    if (v === undefined || v === null) continue
    if ((fn === 'sum' || fn === 'avg') && toDecimal(v) === null) return { code: 'RECORD_TRANSFORM', reason: `aggregate ${name}: ${fn} of "${field}" needs a number, got ${stringify(v).slice(0, 80)}` }
    if ((fn === 'min' || fn === 'max') && !isOrderable(v)) return { code: 'RECORD_TRANSFORM', reason: `aggregate ${name}: ${fn} of "${field}" needs a number, text or time, got ${stringify(v).slice(0, 80)}` }
  }
  return null
}

function entriesOf(spec: AggregateSpec): Entry[] {
  return Object.entries(spec.aggregations).map(([name, a]) => [name, a.fn, a.field])
}

/** Why a row cannot be aggregated by the step (its dead letter's code and reason), or null. */
export function aggregateProblem(values: RowValues, spec: AggregateSpec): { code: ErrorCode; reason: string } | null {
  return problem(values, spec, entriesOf(spec))
}

/**
 * Reduces a batch's rows to one partial aggregate row per group (per window), in first-seen order.
 * `openAfterMs` (update mode: the watermark the batch applies) leaves out the windows of a sliding
 * record that end at or before it: they may be closed (records.ts made late the records whose
 * every window is); null (complete mode, no watermark) keeps every window.
 */
export function aggregateRows(rows: readonly Row[], spec: AggregateSpec, openAfterMs: number | null = null): AggregatedBatch {
  const entries = entriesOf(spec)
  const windowSpec = windowSpecOf(spec)
  const groups = new Map<string, Group>()
  const dead: DeadLetter[] = []
  const sessions = new Map<string, { values: RowValues; rows: { row: Row; t: number }[] }>()
  const add = (row: Row, keyValues: RowValues, key: string): void => {
    let group = groups.get(key)
    if (group === undefined) {
      group = { values: keyValues, partials: entries.map(([, fn]) => emptyPartial(fn)), members: [] }
      groups.set(key, group)
    }
    group.members.push(row.source)
    const g = group
    g.partials = g.partials.map((p, i) => {
      const field = (entries[i] as Entry)[2]
      const v = field === undefined ? undefined : fieldAt(row.values, field)
      return foldValue(p, v, field === undefined || (v !== undefined && v !== null))
    })
  }
  for (const row of rows) {
    const values = row.values
    const bad = problem(values, spec, entries)
    if (bad !== null) {
      dead.push({ record: row.source, ...bad })
      continue
    }
    const groupValues: RowValues = {}
    for (const g of spec.groupBy) setField(groupValues, g, fieldAt(values, g))
    const groupKey = stringify(spec.groupBy.map((g) => fieldAt(groupValues, g)))
    if (spec.session !== undefined) {
      const t = parseEventTime(fieldAt(values, spec.session.column)) as number
      const list = sessions.get(groupKey) ?? { values: groupValues, rows: [] }
      list.rows.push({ row, t })
      sessions.set(groupKey, list)
      continue
    }
    if (spec.window === undefined || windowSpec === null) {
      add(row, groupValues, groupKey)
      continue
    }
    const t = parseEventTime(fieldAt(values, spec.window.column)) as number
    for (const w of assignWindows(t, windowSpec)) {
      if (openAfterMs !== null && w.end <= openAfterMs) continue
      const keyValues: RowValues = { ...groupValues, [WINDOW_START]: new Date(w.start), [WINDOW_END]: new Date(w.end) }
      add(row, keyValues, `${groupKey}@${w.start}`)
    }
  }
  // Sessions within the batch (what `sluice test` shows; a run merges them with the stored ones too):
  // each record opens [t, t + gap), and overlapping or touching sessions of a group merge.
  for (const [groupKey, { values: groupValues, rows: timed }] of sessions) {
    const gap = (spec.session as NonNullable<AggregateSpec['session']>).gap
    timed.sort((a, b) => a.t - b.t)
    let current: { start: number; end: number; rows: Row[] } | null = null
    const flush = (): void => {
      if (current === null) return
      const keyValues: RowValues = { ...groupValues, [WINDOW_START]: new Date(current.start), [WINDOW_END]: new Date(current.end) }
      for (const r of current.rows) add(r, keyValues, `${groupKey}@${current.start}`)
    }
    for (const { row, t } of timed) {
      if (current !== null && t <= current.end) {
        current.end = Math.max(current.end, t + gap)
        current.rows.push(row)
        continue
      }
      flush()
      current = { start: t, end: t + gap, rows: [row] }
    }
    flush()
  }
  const out: Row[] = []
  const members = new Map<Row, readonly SourceRecord[]>()
  for (const group of groups.values()) {
    const values: RowValues = { ...group.values }
    entries.forEach(([name], i) => Object.assign(values, result(name, group.partials[i] as Partial)))
    const row: Row = { values, source: group.members[0] as SourceRecord }
    out.push(row)
    members.set(row, group.members)
  }
  return { rows: out, members, dead }
}

/** The output columns of one aggregation: its value, and for an avg the running pair the merge adds up. */
function result(name: string, p: Partial): RowValues {
  if (p.fn !== 'avg') return { [name]: partialResult(p) }
  const parts = avgParts(name)
  return { [name]: partialResult(p), [parts.sum]: p.sum === null ? null : decimalText(p.sum), [parts.count]: p.n }
}
