/**
 * Windowed word count in the style of Spark's programming guide (10-minute windows sliding every 5
 * minutes, 10-minute watermark), with a record late for one of its two windows. Expected rows are
 * derived by hand from the rules in the comments, batch by batch.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { closeWindows, foldWindowedBatch, type TimedRow } from './fold-batch.ts'
import { type GroupState, mergeStateMaps, stateKey } from './group-state.ts'
import { type OutputMode, nextWatermark } from './lateness.ts'
import { partialResult } from './partial.ts'

const MIN = 60_000
const at = (hhmm: string): number => Date.parse(`2026-01-01T${hhmm}:00Z`)
const hm = (ms: number): string => new Date(ms).toISOString().slice(11, 16)
const SPEC = { groupBy: ['word'], aggregations: [{ name: 'n', fn: 'count' as const }], window: { durationMs: 10 * MIN, slideMs: 5 * MIN } }

const BATCHES: readonly (readonly [string, string][])[] = [
  [['12:07', 'dog'], ['12:08', 'owl']],
  [['12:14', 'dog'], ['12:09', 'cat']],
  [['12:08', 'dog'], ['12:13', 'owl'], ['12:15', 'cat'], ['12:21', 'owl']],
  [['12:04', 'donkey'], ['12:17', 'owl'], ['12:09', 'dog']],
]

function rows(batch: readonly [string, string][]): TimedRow<string>[] {
  return batch.map(([t, word]) => ({ record: `${t} ${word}`, values: { word, ts: t }, eventTimeMs: at(t) }))
}

const line = (s: GroupState): string => `${hm(s.window?.start ?? 0)}-${hm(s.window?.end ?? 0)} ${String(s.group[0])} ${String(partialResult(s.partials[0] as never))}`

function run(mode: OutputMode) {
  const state = new Map<string, GroupState>()
  let watermark: number | null = null
  const out: { watermark: string | null; emitted: string[]; late: string[] }[] = []
  for (const batch of BATCHES) {
    const folded = foldWindowedBatch(rows(batch), SPEC, watermark, mode)
    mergeStateMaps(state, folded.states)
    const next = nextWatermark(watermark, folded.maxEventTimeMs, 10 * MIN)
    let emitted: GroupState[]
    if (mode === 'append') {
      emitted = closeWindows(state.values(), next).closed
      for (const s of emitted) state.delete(stateKey(s.group, s.window))
    } else {
      emitted = [...folded.states.keys()].map((k) => state.get(k) as GroupState)
    }
    const late = folded.late.map((l) => `${l.record} late for ${l.windows.map((w) => `${hm(w.start)}-${hm(w.end)}`).join(',')}${l.wholly ? '' : ' only'}`)
    out.push({ watermark: watermark === null ? null : hm(watermark), emitted: emitted.map(line).sort(), late })
    watermark = next
  }
  return out
}

test('update mode, batch by batch: changed rows with running counts; the record late for one window counts in the other', () => {
  assert.deepEqual(run('update'), [
    // No watermark. 12:07 and 12:08 are each in 12:00-12:10 and 12:05-12:15. Next: 12:08-10 = 11:58.
    { watermark: null, emitted: ['12:00-12:10 dog 1', '12:00-12:10 owl 1', '12:05-12:15 dog 1', '12:05-12:15 owl 1'], late: [] },
    // 12:14 dog: 12:05-12:15, 12:10-12:20; 12:09 cat: 12:00-12:10, 12:05-12:15. Next: 12:14-10 = 12:04.
    { watermark: '11:58', emitted: ['12:00-12:10 cat 1', '12:05-12:15 cat 1', '12:05-12:15 dog 2', '12:10-12:20 dog 1'], late: [] },
    // 12:08 dog arrives after 12:14 was seen, but lateness is judged on its windows' ends (12:10, 12:15 > 12:04):
    // on time for both. Next: 12:21-10 = 12:11.
    {
      watermark: '12:04',
      emitted: ['12:00-12:10 dog 2', '12:05-12:15 dog 3', '12:05-12:15 owl 2', '12:10-12:20 cat 1', '12:10-12:20 owl 1', '12:15-12:25 cat 1', '12:15-12:25 owl 1', '12:20-12:30 owl 1'],
      late: [],
    },
    // 12:04 donkey: windows 11:55-12:05 and 12:00-12:10 end <= 12:11: late for both. 12:09 dog: late for 12:00-12:10,
    // on time for 12:05-12:15 (end 12:15 > 12:11). 12:17 owl: 12:10-12:20, 12:15-12:25. Next: max(12:11, 12:17-10) = 12:11.
    { watermark: '12:11', emitted: ['12:05-12:15 dog 4', '12:10-12:20 owl 2', '12:15-12:25 owl 2'], late: ['12:04 donkey late for 11:55-12:05,12:00-12:10', '12:09 dog late for 12:00-12:10 only'] },
  ])
})

test('append mode: a window is emitted once, with its final count, when the committed watermark reaches its end', () => {
  assert.deepEqual(run('append'), [
    { watermark: null, emitted: [], late: [] },
    { watermark: '11:58', emitted: [], late: [] },
    // Committing 12:11 closes 12:00-12:10 (end 12:10 <= 12:11) with dog 2, owl 1, cat 1.
    { watermark: '12:04', emitted: ['12:00-12:10 cat 1', '12:00-12:10 dog 2', '12:00-12:10 owl 1'], late: [] },
    // The watermark stays 12:11 (12:17-10 = 12:07 is behind it): nothing closes; the late ones are as in update.
    { watermark: '12:11', emitted: [], late: ['12:04 donkey late for 11:55-12:05,12:00-12:10', '12:09 dog late for 12:00-12:10 only'] },
  ])
})

test('complete mode: nothing is late; the last batch changes the rows of the 12:04 donkey and 12:09 dog in all their windows', () => {
  const last = run('complete')[3]
  assert.deepEqual(last?.late, [])
  assert.deepEqual(last?.emitted, ['11:55-12:05 donkey 1', '12:00-12:10 dog 3', '12:00-12:10 donkey 1', '12:05-12:15 dog 4', '12:10-12:20 owl 2', '12:15-12:25 owl 2'])
})

test('closeWindows: closed states earliest end first, then by key; unwindowed states never close', () => {
  const s = (word: string, start: number, end: number): GroupState => ({ group: [word], window: { start, end }, partials: [] })
  const plain: GroupState = { group: ['x'], window: null, partials: [] }
  const { closed, open } = closeWindows([s('b', 0, 10), s('a', 5, 15), s('a', 0, 10), plain, s('c', 10, 20)], 15)
  assert.deepEqual(closed.map((c) => `${String(c.group[0])}${c.window?.end}`), ['a10', 'b10', 'a15'])
  assert.deepEqual(open.map((c) => String(c.group[0])), ['x', 'c'])
  assert.deepEqual(closeWindows([s('a', 0, 10)], null).closed, [], 'no watermark: nothing closes')
})
