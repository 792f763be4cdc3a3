/**
 * The aggregate step in append mode (Spark's windowed aggregation with outputMode append, over
 * tumbling, sliding or session windows): a window's row is written once, in the batch whose committed watermark passes the window's end,
 * with its final result, and never changed afterwards. Until then its partial aggregate lives in
 * the store's window state (api/window-state.ts), merged batch by batch inside the batch
 * transaction, so a crash or a replay neither loses nor double-counts a record.
 *
 * Inside one batch transaction (commit.ts):
 *   1. take the pipeline's window lock and read the committed watermark P (every worker's window work of the pipeline waits
 *      here until this batch commits);
 *   2. fold the batch's rows under max(applied, P): input for a window that an earlier commit
 *      closed is late (a worker whose read applied an older watermark, e.g. a read-ahead, must not
 *      reopen a window another batch already wrote);
 *   3. merge the partials into the stored states (commutative, so which worker folded what does
 *      not matter) and save them;
 *   4. after the store saved the batch's watermark N: close (delete and return) every state whose
 *      end <= N and write its row to the table.
 */
import type { StateScope } from '../api/keyed-state.ts'
import { fieldAt } from '../api/field-path.ts'
import { type Row, type RowValues, type SourceRecord, setField } from '../api/record.ts'
import type { DeadLetter } from '../api/writer.ts'
import type { StoredWindow, WindowState } from '../api/window-state.ts'
import { type AggregateSpec, WINDOW_START, aggregateProblem, aggregationSpecs, windowSpecOf } from './aggregate.ts'
import type { PlannedBatch } from './checkpoint.ts'
import { type FoldedBatch, type TimedRow, type WindowedAggregateSpec, foldWindowedBatch } from './state/fold-batch.ts'
import { type GroupState, groupKeyText, groupStateFromJson, groupStateToJson, mergeGroupStates, stateKey, stateRow } from './state/group-state.ts'
import { type SessionAggregateSpec, foldSessionBatch, mergeSessions, sessionExpiresAt } from './state/session.ts'
import type { TimeWindow } from './state/windows.ts'
import { parseEventTime } from './watermark.ts'
import { SluiceError } from '../errors.ts'

/** The aggregate step with its windows in the state table, as the batch runner applies it. */
export interface WindowAppendOptions {
  readonly spec: AggregateSpec
  /** The step's name in the pipeline (`transform[<index>]`): it keys the step's state. */
  readonly step: string
  /**
   * `append` (default): closed windows are written once. `complete` (session windows): every
   * session a batch changed is upserted, the rows of sessions merged away are deleted, and the
   * state is never closed (Spark's complete mode keeps all of it).
   */
  readonly mode?: 'append' | 'complete'
}

/** How the step windows its rows: fixed windows (tumbling, sliding) or sessions. */
export type Windowing =
  | { readonly kind: 'window'; readonly spec: WindowedAggregateSpec }
  | { readonly kind: 'session'; readonly spec: SessionAggregateSpec; readonly timeoutMs: number | null }

/** A batch's rows ready for the window state: checked (the rest are dead letters) and timed. */
export interface WindowClaim {
  readonly scope: StateScope
  readonly windowing: Windowing
  readonly rows: readonly TimedRow<SourceRecord>[]
  /** The batch's processing time (its plan time: the same when it is re-run), for session timeouts. */
  readonly nowMs: number
  /** The watermark the batch's read applied (records.ts already made late what it closes). */
  readonly appliedMs: number | null
  /** Late records go to a destination (sendtodlq, separatestream); else they are only counted. */
  readonly routeLate: boolean
  readonly mode: 'append' | 'complete'
}

/** In complete mode: the result rows a batch changed, and the keys of rows that no longer exist. */
export interface ResultChanges {
  readonly rows: Row[]
  readonly removed: RowValues[]
}

/** What the window state made of a batch, for its counts. */
export interface WindowOutcome {
  /** Source records folded into at least one open window. */
  readonly counted: number
  /** Records whose every window an earlier commit had closed (their late letters; written when routeLate). */
  readonly late: readonly DeadLetter[]
  /** Window rows written by this batch (closed by its watermark). */
  readonly emitted: number
  /** Closed windows the table refused (dead letters). */
  readonly refused: number
}

/** Splits a batch's rows into those the step can fold and dead letters (as the merge-mode step does). */
export function claimWindows(rows: readonly Row[], options: WindowAppendOptions, pipelineId: string, planned: PlannedBatch, routeLate: boolean, now: number): { claim: WindowClaim; dead: DeadLetter[] } {
  const { spec } = options
  const windowing = windowingOf(spec)
  const column = (spec.window ?? spec.session)?.column as string
  const dead: DeadLetter[] = []
  const timed: TimedRow<SourceRecord>[] = []
  for (const row of rows) {
    const bad = aggregateProblem(row.values, spec)
    if (bad !== null) dead.push({ record: row.source, ...bad })
    else timed.push({ record: row.source, values: row.values, eventTimeMs: parseEventTime(fieldAt(row.values, column)) as number })
  }
  const plannedAt = Date.parse(planned.plannedAt)
  const claim: WindowClaim = {
    scope: { pipelineId, step: options.step },
    windowing,
    rows: timed,
    nowMs: Number.isNaN(plannedAt) ? now : plannedAt,
    appliedMs: planned.watermarkMs,
    routeLate,
    mode: options.mode ?? 'append',
  }
  return { claim, dead }
}

function windowingOf(spec: AggregateSpec): Windowing {
  const aggregations = aggregationSpecs(spec)
  const window = windowSpecOf(spec)
  if (window !== null) return { kind: 'window', spec: { groupBy: spec.groupBy, aggregations, window } }
  if (spec.session === undefined) throw new SluiceError('INTERNAL', 'an append-mode aggregate needs a window or a session')
  return { kind: 'session', spec: { groupBy: spec.groupBy, aggregations, gapMs: spec.session.gap }, timeoutMs: spec.stateTimeout ?? null }
}

/** Steps 1 to 3: fold under the stricter watermark and merge into the stored states. */
export async function mergeWindowBatch<Tx>(state: WindowState<Tx>, tx: Tx, claim: WindowClaim): Promise<Pick<WindowOutcome, 'counted' | 'late'> & { readonly changes: ResultChanges | null }> {
  const committed = await state.lockWatermark(tx, claim.scope.pipelineId)
  const watermark = claim.appliedMs === null ? committed : committed === null ? claim.appliedMs : Math.max(claim.appliedMs, committed)
  const merged = claim.windowing.kind === 'window' ? { late: await mergeWindows(state, tx, claim, claim.windowing.spec, watermark), changes: null } : await mergeSessionBatch(state, tx, claim, claim.windowing, watermark)
  const letters = merged.late.filter((l) => l.wholly).map((l) => lateLetter(l.record, l.windows, watermark as number, claim.windowing.kind))
  return { counted: claim.rows.length - letters.length, late: letters, changes: merged.changes }
}

/** Fixed windows: each (group, window) partial merges into its stored state by key. */
async function mergeWindows<Tx>(state: WindowState<Tx>, tx: Tx, claim: WindowClaim, spec: WindowedAggregateSpec, watermark: number | null): Promise<FoldedBatch<SourceRecord>['late']> {
  const folded = foldWindowedBatch(claim.rows, spec, watermark, 'append')
  const stored = await state.load(tx, claim.scope, [...folded.states.keys()])
  const windows: StoredWindow[] = []
  for (const [key, batchState] of folded.states) {
    const was = stored.get(key)
    const merged = was === undefined ? batchState : mergeGroupStates(groupStateFromJson(was), batchState)
    windows.push({ key, endMs: (merged.window as NonNullable<GroupState['window']>).end, state: groupStateToJson(merged) })
  }
  await state.save(tx, claim.scope, windows)
  return folded.late
}

/**
 * Sessions: a batch's sessions of a group merge with the group's stored sessions into disjoint
 * ones (a record can extend a session or bridge two into one); the stored ones are replaced. A
 * session the batch added to expires `timeoutMs` after the batch time; the others keep their expiry.
 */
async function mergeSessionBatch<Tx>(state: WindowState<Tx>, tx: Tx, claim: WindowClaim, windowing: Extract<Windowing, { kind: 'session' }>, watermark: number | null): Promise<{ late: FoldedBatch<SourceRecord>['late']; changes: ResultChanges | null }> {
  const folded = foldSessionBatch(claim.rows, windowing.spec, watermark, claim.mode)
  const stored = await state.loadPrefixed(tx, claim.scope, [...folded.sessions.keys()].map((g) => `${g}@`))
  const storedByGroup = new Map<string, { state: GroupState; expiresMs: number | null }[]>()
  for (const w of stored) {
    const s = groupStateFromJson(w.state)
    const g = groupKeyText(s.group)
    // A prefix match of another group's key is impossible (group keys are whole JSON lists), but be sure.
    if (!folded.sessions.has(g)) continue
    const list = storedByGroup.get(g) ?? []
    list.push({ state: s, expiresMs: w.expiresMs ?? null })
    storedByGroup.set(g, list)
  }
  const expiry = windowing.timeoutMs === null ? null : sessionExpiresAt(claim.nowMs, windowing.timeoutMs)
  const replaced: string[] = []
  const saved: StoredWindow[] = []
  for (const [g, batchSessions] of folded.sessions) {
    const old = storedByGroup.get(g) ?? []
    for (const o of old) replaced.push(stateKey(o.state.group, o.state.window))
    for (const merged of mergeSessions([...old.map((o) => o.state), ...batchSessions])) {
      const w = merged.window as TimeWindow
      const touched = batchSessions.some((b) => (b.window as TimeWindow).start >= w.start && (b.window as TimeWindow).end <= w.end)
      const kept = old.find((o) => stateKey(o.state.group, o.state.window) === stateKey(merged.group, w))
      saved.push({ key: stateKey(merged.group, w), endMs: w.end, state: groupStateToJson(merged), expiresMs: touched ? expiry : (kept?.expiresMs ?? expiry) })
    }
  }
  const savedKeys = new Set(saved.map((w) => w.key))
  const gone = replaced.filter((k) => !savedKeys.has(k))
  await state.delete(tx, claim.scope, gone)
  await state.save(tx, claim.scope, saved)
  return { late: folded.late, changes: claim.mode === 'complete' ? resultChanges(saved, stored.filter((w) => gone.includes(w.key)), claim) : null }
}

/**
 * The table's side of a complete-mode batch: the sessions it saved are upserted; a session merged
 * away is deleted by its table key (group + window_start) unless a saved session has that key.
 */
function resultChanges(saved: readonly StoredWindow[], gone: readonly StoredWindow[], claim: WindowClaim): ResultChanges {
  const rows = saved.map((w) => windowRow(w, claim))
  const { groupBy } = claim.windowing.spec
  const tableKey = (values: RowValues): string => JSON.stringify([...groupBy.map((g) => fieldAt(values, g) ?? null), (values[WINDOW_START] as Date).getTime()])
  const kept = new Set(rows.map((r) => tableKey(r.values)))
  const removed: RowValues[] = []
  for (const w of gone) {
    const values = windowRow(w, claim).values
    if (kept.has(tableKey(values))) continue
    const key: RowValues = {}
    for (const g of groupBy) setField(key, g, fieldAt(values, g))
    key[WINDOW_START] = values[WINDOW_START]
    removed.push(key)
  }
  return { rows, removed }
}

/** Step 4: the rows of the windows the committed watermark (or a session's timeout) closes; their states are deleted. */
export async function closedWindowRows<Tx>(state: WindowState<Tx>, tx: Tx, claim: WindowClaim, watermarkMs: number | null): Promise<Row[]> {
  const timeouts = claim.windowing.kind === 'session' && claim.windowing.timeoutMs !== null
  const closed = await state.close(tx, claim.scope, watermarkMs, timeouts ? claim.nowMs : null)
  return closed.map((w) => windowRow(w, claim))
}

/**
 * A closed window as a table row. Its `source` stands for the window (the records folded into it
 * may be in batches long committed): a refused row's dead letter carries the state key as its key
 * and the row as its value, so the window can be found and written by hand.
 */
function windowRow(w: StoredWindow, claim: WindowClaim): Row {
  const values = stateRow(groupStateFromJson(w.state), claim.windowing.spec.groupBy, claim.windowing.spec.aggregations)
  const source: SourceRecord = {
    partition: `window-state:${claim.scope.step}`,
    topic: `${claim.scope.pipelineId}:${claim.scope.step}`,
    partitionNumber: 0,
    offset: '0',
    key: Buffer.from(w.key),
    value: Buffer.from(JSON.stringify(values)),
    timestamp: w.endMs,
    headers: [],
  }
  return { values, source }
}

function lateLetter(record: SourceRecord, windows: readonly { start: number; end: number }[], watermarkMs: number, kind: Windowing['kind']): DeadLetter {
  const shown = windows.map((w) => `[${new Date(w.start).toISOString()}, ${new Date(w.end).toISOString()})`).join(', ')
  return { record, code: 'LATE_DATA', reason: `${kind} ${shown} ended at or before the watermark ${new Date(watermarkMs).toISOString()}: its row may already be written` }
}
