/**
 * The state of one (group key, window) of an aggregate step: the group's values, its window (null
 * when the step has none) and one partial per aggregation, in the step's aggregation order.
 *
 * Its key (stateKey) is canonical text of exactly what identifies it, independent of which worker
 * or batch computed it: the group values as JSON (exact numbers as written, times as ISO text,
 * bigints tagged) and the window's start/end in epoch ms. Two partial states with the same key
 * merge with mergeGroupStates (partial by partial, commutative and associative), so the state a
 * partition built on one worker and the state it builds after moving to another merge correctly.
 */
import { SluiceError } from '../../errors.ts'
import { fieldAt } from '../../api/field-path.ts'
import type { RowValues } from '../../api/record.ts'
import { isExactNumber, parseJson } from '../exact-number.ts'
import { type AggregateFn, type Partial, type PartialJson, emptyPartial, foldValue, mergePartial, partialFromJson, partialResult, partialToJson } from './partial.ts'
import { type TimeWindow, parseWindowKey, windowKey } from './windows.ts'

/** One output column of an aggregate step. */
export interface AggregationSpec {
  readonly name: string
  readonly fn: AggregateFn
  /** Input field; absent only for a count of rows. */
  readonly field?: string
}

/** The state of one (group key, window). */
export interface GroupState {
  readonly group: readonly unknown[]
  readonly window: TimeWindow | null
  readonly partials: readonly Partial[]
}

/**
 * Group values as canonical JSON that reads back to the same values: strings, numbers (exact
 * numbers verbatim), booleans and null as themselves, and the other types tagged in an object, the
 * only objects in the text: a bigint as {"bigint":"12"}, a time as {"time":"<ISO>"}, any other
 * value as {"json":"<its JSON>"}. Missing (undefined) reads as null.
 */
export function groupKeyText(group: readonly unknown[]): string {
  return JSON.stringify(group.map(keyPart))
}

function keyPart(v: unknown): unknown {
  if (v === undefined || v === null || typeof v === 'string' || typeof v === 'boolean' || isExactNumber(v)) return v ?? null
  if (typeof v === 'number') return Number.isFinite(v) ? v : { json: String(v) }
  if (typeof v === 'bigint') return { bigint: v.toString() }
  if (v instanceof Date) return { time: v.toISOString() }
  return { json: JSON.stringify(v) ?? String(v) }
}

/** The group values of groupKeyText's text (a time comes back as a Date, an exact number exact). */
export function parseGroupKeyText(text: string): unknown[] {
  const parsed = parseJson(text)
  if (!Array.isArray(parsed)) throw new SluiceError('INTERNAL', 'a group key is a JSON list')
  return parsed.map((v: unknown) => {
    if (typeof v !== 'object' || v === null || isExactNumber(v)) return v
    const o = v as Record<string, unknown>
    if (typeof o['bigint'] === 'string') return BigInt(o['bigint'])
    if (typeof o['time'] === 'string') return new Date(o['time'])
    if (typeof o['json'] === 'string') return o['json'] === 'NaN' || o['json'].endsWith('Infinity') ? Number(o['json']) : parseJson(o['json'])
    throw new SluiceError('INTERNAL', 'unreadable group key part')
  })
}

/** The state key of a (group, window): `<group JSON>` or `<group JSON>@<start>/<end>`. */
export function stateKey(group: readonly unknown[], window: TimeWindow | null): string {
  return window === null ? groupKeyText(group) : `${groupKeyText(group)}@${windowKey(window)}`
}

/** The group values of a row, in groupBy order (undefined for a missing field). */
export function groupValues(values: Readonly<RowValues>, groupBy: readonly string[]): unknown[] {
  return groupBy.map((g) => fieldAt(values, g))
}

/** A state with nothing folded in. */
export function emptyGroupState(group: readonly unknown[], window: TimeWindow | null, aggregations: readonly AggregationSpec[]): GroupState {
  return { group, window, partials: aggregations.map((a) => emptyPartial(a.fn)) }
}

/** Folds one row's values into a state (see foldValue for which values the caller must refuse first). */
export function foldRow(state: GroupState, values: Readonly<RowValues>, aggregations: readonly AggregationSpec[]): GroupState {
  const partials = state.partials.map((p, i) => {
    const a = aggregations[i] as AggregationSpec
    const v = a.field === undefined ? undefined : fieldAt(values, a.field)
    return foldValue(p, v, a.field === undefined || (v !== undefined && v !== null))
  })
  return { ...state, partials }
}

/** Merges two states of the same key (throws when the keys or aggregations differ). */
export function mergeGroupStates(a: GroupState, b: GroupState): GroupState {
  if (stateKey(a.group, a.window) !== stateKey(b.group, b.window)) throw new SluiceError('INTERNAL', 'cannot merge the states of different keys')
  if (a.partials.length !== b.partials.length) throw new SluiceError('INTERNAL', 'cannot merge states of different aggregations')
  return { ...a, partials: a.partials.map((p, i) => mergePartial(p, b.partials[i] as Partial)) }
}

/** Merges `incoming` into `into` by key (into is changed; the states themselves are not). */
export function mergeStateMaps(into: Map<string, GroupState>, incoming: ReadonlyMap<string, GroupState>): Map<string, GroupState> {
  for (const [key, s] of incoming) {
    const have = into.get(key)
    into.set(key, have === undefined ? s : mergeGroupStates(have, s))
  }
  return into
}

/** The output values of a state: group columns, window_start/window_end when windowed, one column per aggregation. */
export function stateRow(state: GroupState, groupBy: readonly string[], aggregations: readonly AggregationSpec[]): RowValues {
  const row: RowValues = {}
  groupBy.forEach((g, i) => Object.defineProperty(row, g, { value: state.group[i], enumerable: true, writable: true, configurable: true }))
  if (state.window !== null) {
    row['window_start'] = new Date(state.window.start)
    row['window_end'] = new Date(state.window.end)
  }
  aggregations.forEach((a, i) => Object.defineProperty(row, a.name, { value: partialResult(state.partials[i] as Partial), enumerable: true, writable: true, configurable: true }))
  return row
}

/** JSON form of a state, for the state table's value column. */
export interface GroupStateJson {
  /** groupKeyText of the group values. */
  readonly group: string
  readonly window: string | null
  readonly partials: readonly PartialJson[]
}

/** The state as JSON (self-contained: the group values and window are in it as well as in its key). */
export function groupStateToJson(state: GroupState): GroupStateJson {
  return { group: groupKeyText(state.group), window: state.window === null ? null : windowKey(state.window), partials: state.partials.map(partialToJson) }
}

/** Reads groupStateToJson's output back; throws SluiceError INTERNAL on anything else. */
export function groupStateFromJson(json: unknown): GroupState {
  if (typeof json !== 'object' || json === null) throw new SluiceError('INTERNAL', 'group state must be an object')
  const o = json as Record<string, unknown>
  if (typeof o['group'] !== 'string') throw new SluiceError('INTERNAL', 'group state needs its group key text')
  const group = parseGroupKeyText(o['group'])
  const w = o['window']
  const window = w === null ? null : typeof w === 'string' ? parseWindowKey(w) : undefined
  if (window === undefined || (w !== null && window === null)) throw new SluiceError('INTERNAL', 'group state has an unreadable window')
  const partials = o['partials']
  if (!Array.isArray(partials)) throw new SluiceError('INTERNAL', 'group state needs a partials list')
  return { group, window, partials: partials.map(partialFromJson) }
}
