import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { TimedRow } from './fold-batch.ts'
import { type GroupState, groupKeyText } from './group-state.ts'
import { isWindowClosed } from './lateness.ts'
import { partialResult } from './partial.ts'
import { foldSessionBatch, isSessionClosed, mergeSessions, sessionExpiresAt, sessionGapProblem, sessionOf } from './session.ts'

const MIN = 60_000
const at = (hhmm: string): number => Date.parse(`2026-01-01T${hhmm}:00Z`)
const hm = (ms: number): string => new Date(ms).toISOString().slice(11, 16)
const SPEC = { groupBy: ['user'], aggregations: [{ name: 'n', fn: 'count' as const }], gapMs: 10 * MIN }
const show = (ss: readonly GroupState[]): string[] => ss.map((s) => `${hm(s.window?.start ?? 0)}-${hm(s.window?.end ?? 0)} ${String(partialResult(s.partials[0] as never))}`)

function rows(events: readonly [string, string][]): TimedRow<string>[] {
  return events.map(([t, user]) => ({ record: `${t} ${user}`, values: { user }, eventTimeMs: at(t) }))
}

test('an event opens [t, t + gap); a gap must be positive', () => {
  assert.deepEqual(sessionOf(at('12:00'), 10 * MIN), { start: at('12:00'), end: at('12:10') })
  assert.equal(sessionGapProblem(10 * MIN), null)
  assert.match(sessionGapProblem(0) ?? '', /greater than 0/)
})

test("sessions merge when they overlap or touch (next start <= current end), as Spark's MergingSessionsIterator", () => {
  const folded = foldSessionBatch(
    rows([
      ['12:00', 'a'],
      ['12:05', 'a'], // overlaps 12:00-12:10: one session 12:00-12:15
      ['12:15', 'a'], // starts exactly at its end: touching merges (12:00-12:25)
      ['12:40', 'a'], // 15 minutes after 12:25: a new session
      ['12:03', 'b'],
    ]),
    SPEC,
    null,
    'append',
  )
  assert.deepEqual(show(folded.sessions.get(groupKeyText(['a'])) ?? []), ['12:00-12:25 3', '12:40-12:50 1'])
  assert.deepEqual(show(folded.sessions.get(groupKeyText(['b'])) ?? []), ['12:03-12:13 1'])
  assert.equal(folded.maxEventTimeMs, at('12:40'))
})

test('a batch can bridge two stored sessions into one; the merge is order-independent', () => {
  const stored = foldSessionBatch(rows([['12:00', 'a'], ['12:30', 'a']]), SPEC, null, 'append').sessions.get(groupKeyText(['a'])) ?? []
  assert.deepEqual(show(stored), ['12:00-12:10 1', '12:30-12:40 1'])
  const batch = foldSessionBatch(rows([['12:20', 'a'], ['12:10', 'a']]), SPEC, null, 'append').sessions.get(groupKeyText(['a'])) ?? []
  assert.deepEqual(show(batch), ['12:10-12:30 2'], '12:10-12:20 and 12:20-12:30 touch')
  assert.deepEqual(show(mergeSessions([...stored, ...batch])), ['12:00-12:40 4'], 'touching 12:00-12:10 and 12:30-12:40 on both sides')
  const apart = foldSessionBatch(rows([['12:09', 'a'], ['12:20', 'a']]), SPEC, null, 'append').sessions.get(groupKeyText(['a'])) ?? []
  assert.deepEqual(show(mergeSessions([...stored, ...apart])), ['12:00-12:19 2', '12:20-12:40 2'], '12:19 < 12:20: a gap remains')
  const pieces = [...stored, ...apart]
  const permutations = (xs: GroupState[]): GroupState[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])))
  for (const p of permutations(pieces)) assert.deepEqual(show(mergeSessions(p)), ['12:00-12:19 2', '12:20-12:40 2'])
  // Merging in two steps (as two workers' commits would) gives the same.
  assert.deepEqual(show(mergeSessions([...mergeSessions([pieces[0] as GroupState, pieces[3] as GroupState]), pieces[1] as GroupState, pieces[2] as GroupState])), ['12:00-12:19 2', '12:20-12:40 2'])
})

test('lateness is on the event session end (t + gap <= watermark); complete drops nothing; stored sessions close at end <= watermark', () => {
  const folded = foldSessionBatch(rows([['12:00', 'a'], ['12:01', 'a'], ['12:30', 'a']]), SPEC, at('12:10'), 'append')
  // 12:00 + 10 = 12:10 <= 12:10: late. 12:01 + 10 = 12:11 > 12:10: on time although 12:01 <= watermark.
  assert.deepEqual(folded.late.map((l) => l.record), ['12:00 a'])
  assert.deepEqual(folded.late[0]?.windows, [{ start: at('12:00'), end: at('12:10') }])
  assert.deepEqual(show(folded.sessions.get(groupKeyText(['a'])) ?? []), ['12:01-12:11 1', '12:30-12:40 1'])
  assert.deepEqual(foldSessionBatch(rows([['12:00', 'a']]), SPEC, at('12:10'), 'complete').late, [])
  const closed = (folded.sessions.get(groupKeyText(['a'])) ?? []).filter((s) => s.window !== null && isWindowClosed(s.window, at('12:11')))
  assert.deepEqual(show(closed), ['12:01-12:11 1'])
})

test('a session closes at end <= watermark, or after stateTimeout of processing-time idleness (expiresAt < now)', () => {
  const s = { start: at('12:00'), end: at('12:10') }
  assert.equal(isSessionClosed(s, at('12:09'), null, 0), false)
  assert.equal(isSessionClosed(s, at('12:10'), null, 0), true)
  assert.equal(isSessionClosed(s, null, null, Number.MAX_SAFE_INTEGER), false, 'neither a watermark nor a timeout: stays open')
  const expires = sessionExpiresAt(1_000, 30 * MIN)
  assert.equal(expires, 1_000 + 30 * MIN)
  assert.equal(isSessionClosed(s, null, expires, expires), false, 'idle exactly the timeout: not yet')
  assert.equal(isSessionClosed(s, at('12:00'), expires, expires + 1), true)
})
