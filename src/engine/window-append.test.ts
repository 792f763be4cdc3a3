// The aggregate step in append mode, batch by batch, on the shape of the Spark programming guide's
// windowed word count ("Handling Late Data and Watermarking": 10-minute windows sliding every 5
// minutes, a 10-minute watermark, words between 12:00 and 12:21, a late "donkey" at 12:04). The
// expected rows are derived by hand below, per batch: a window is written once, in the batch whose
// committed watermark reaches its end, and never changed; what comes for a closed window is late.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AggregateSpec } from './aggregate.ts'
import { SluiceError } from '../errors.ts'
import { commitBatch } from './commit.ts'
import { claimWindows } from './window-append.ts'
import { MemorySink, MemorySource, memoryQuery } from './testkit.ts'

const MIN = 60_000
const at = (hhmm: string): number => Date.UTC(2026, 0, 1, Number(hhmm.slice(0, 2)), Number(hhmm.slice(3)))
const hm = (d: unknown): string => new Date(d as Date).toISOString().slice(11, 16)

const WORDS: AggregateSpec = { groupBy: ['word'], aggregations: { count: { fn: 'count' } }, window: { column: 'event_time', duration: 10 * MIN, slide: 5 * MIN } }
const STEP = { spec: WORDS, step: 'transform[0]' }

/** Triggers of the guide's timeline; each line is [event time, word]. */
const TRIGGERS: readonly (readonly (readonly [string, string])[])[] = [
  [['12:02', 'cat'], ['12:03', 'dog']], // watermark after: 12:03 - 10 = 11:53
  [['12:07', 'dog'], ['12:08', 'owl']], // 11:58
  [['12:14', 'dog'], ['12:09', 'cat']], // 12:04
  [['12:15', 'cat'], ['12:08', 'dog'], ['12:13', 'owl'], ['12:21', 'owl']], // 12:11: closes the windows ending 12:05 and 12:10
  [['12:17', 'owl'], ['12:04', 'donkey']], // still 12:11; donkey's windows (ending 12:05, 12:10) are closed: late
  [['12:40', 'cat']], // 12:30: closes the windows ending 12:15, 12:20, 12:25, 12:30
]

/** Rows written by each trigger, "start-end word count", derived by hand from the windows of each event. */
const EMITTED: readonly (readonly string[])[] = [
  [],
  [],
  [],
  // [11:55, 12:05): cat 12:02, dog 12:03. [12:00, 12:10): cat 12:02 12:09, dog 12:03 12:07 12:08, owl 12:08.
  ['11:55-12:05 cat 1', '11:55-12:05 dog 1', '12:00-12:10 cat 2', '12:00-12:10 dog 3', '12:00-12:10 owl 1'],
  [],
  [
    // [12:05, 12:15): dog 12:07 12:14 12:08, owl 12:08 12:13, cat 12:09.
    '12:05-12:15 cat 1',
    '12:05-12:15 dog 3',
    '12:05-12:15 owl 2',
    // [12:10, 12:20): dog 12:14, cat 12:15, owl 12:13 12:17.
    '12:10-12:20 cat 1',
    '12:10-12:20 dog 1',
    '12:10-12:20 owl 2',
    // [12:15, 12:25): cat 12:15, owl 12:21 12:17. [12:20, 12:30): owl 12:21.
    '12:15-12:25 cat 1',
    '12:15-12:25 owl 2',
    '12:20-12:30 owl 1',
  ],
]

const line = (r: Record<string, unknown>): string => `${hm(r.window_start)}-${hm(r.window_end)} ${String(r.word)} ${String(r.count)}`
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

async function runTrigger(source: MemorySource, sink: MemorySink, words: readonly (readonly [string, string])[], id: { n: number }) {
  source.append(words.map(([t, word]) => JSON.stringify({ id: id.n++, word, event_time: new Date(at(t)).toISOString() })), 0)
  return (await memoryQuery(source, sink, { trigger: { type: 'once' }, watermarkDelayMs: 10 * MIN, windowAppend: STEP, outputMode: 'append' })).run()
}

test("append mode, trigger by trigger: each window's row is written once, when the watermark passes its end", async () => {
  const source = new MemorySource([[]])
  const sink = new MemorySink()
  const id = { n: 0 }
  const watermarks: string[] = []
  for (const [i, words] of TRIGGERS.entries()) {
    const before = sink.rows.length
    const summary = await runTrigger(source, sink, words, id)
    assert.deepEqual(sink.rows.slice(before).map(line).sort(byText), [...(EMITTED[i] as string[])].sort(byText), `trigger ${i + 1}`)
    watermarks.push(hm(summary.watermarkMs))
  }
  assert.deepEqual(watermarks, ['11:53', '11:58', '12:04', '12:11', '12:11', '12:30'])
  // The late donkey went to the late destination with the windows it missed; nothing else did.
  const late = sink.side.late ?? []
  assert.equal(late.length, 1)
  assert.match(String(late[0]?.value), /donkey/)
  assert.equal(late[0]?.['sluice.error.code'], 'LATE_DATA')
  assert.equal(late[0]?.['sluice.error.reason'], 'newest window [2026-01-01T12:00:00.000Z, 2026-01-01T12:10:00.000Z) of event time 2026-01-01T12:04:00.000Z ended at or before the watermark 2026-01-01T12:11:00.000Z')
  // Only the windows still open are in the state: cat's two windows of 12:40 ([12:35, 12:45), [12:40, 12:50)).
  assert.deepEqual([...sink.windowStates.values()].map((w) => hm(w.endMs)).sort(byText), ['12:45', '12:50'])
})

test('update mode on the same input: the running counts of every window, and the same late donkey', async () => {
  const source = new MemorySource([[]])
  const sink = new MemorySink({ writeMode: 'upsert', keys: ['word', 'window_start'] })
  let n = 0
  for (const words of TRIGGERS) {
    source.append(words.map(([t, word]) => JSON.stringify({ id: n++, word, event_time: new Date(at(t)).toISOString() })), 0)
    await (await memoryQuery(source, sink, { trigger: { type: 'once' }, watermarkDelayMs: 10 * MIN, aggregate: WORDS, outputMode: 'update' })).run()
  }
  const appended = EMITTED.flat()
  // Every window append mode wrote has the same final count in update mode, plus the two still open.
  assert.deepEqual(sink.rows.map(line).sort(byText), [...appended, '12:35-12:45 cat 1', '12:40-12:50 cat 1'].sort(byText))
  assert.equal((sink.side.late ?? []).length, 1)
})

test('a batch retried after a failure, or replayed after its commit, folds its records once', async () => {
  const source = new MemorySource([[]])
  const sink = new MemorySink()
  const id = { n: 0 }
  for (const [i, words] of TRIGGERS.entries()) {
    // A transient failure before each commit: the batch is retried as the same batch.
    sink.failures.push(new SluiceError('SINK_UNAVAILABLE', 'connection reset'))
    // And the commit of trigger 4 (the one that closes windows) loses its reply: the retry is a duplicate.
    if (i === 3) sink.loseNextCommitReply = true
    await runTrigger(source, sink, words, id)
  }
  assert.deepEqual(sink.rows.map(line).sort(byText), EMITTED.flat().sort(byText))
})

test('a batch read under an older watermark does not reopen a window a later commit closed: its input is late', async () => {
  const sink = new MemorySink()
  // The store committed 12:11 (windows ending 12:05 and 12:10 are written); this batch was read under 12:04.
  sink.watermarkMs = at('12:11')
  const rows = [
    { values: { word: 'dog', event_time: new Date(at('12:08')).toISOString() }, source: record('0'), eventTimeMs: at('12:08') },
    { values: { word: 'cat', event_time: new Date(at('12:04')).toISOString() }, source: record('1'), eventTimeMs: at('12:04') },
  ]
  const { claim, dead } = claimWindows(rows, STEP, 'p', { batchId: 7, start: { p0: '0' }, end: { p0: '2' }, watermarkMs: at('12:04'), plannedAt: new Date().toISOString() }, true, 0)
  assert.deepEqual(dead, [])
  const mark = { pipelineId: 'p', batchId: 7, exactlyOnce: true, recordCount: 2, start: {}, end: { p0: '2' }, nextWatermarkMs: at('11:58'), checkpointLocation: null }
  const result = await commitBatch(sink.parts(), { mark, table: { rows: [] }, dead: [], late: [], windows: claim })
  // dog 12:08 counts only in [12:05, 12:15); cat 12:04 (windows ending 12:05, 12:10) is wholly late.
  assert.equal(result.windows?.counted, 1)
  assert.deepEqual(result.windows?.late.map((l) => l.record.offset), ['1'])
  assert.deepEqual([...sink.windowStates.values()].map((w) => `${hm(w.endMs)}`), ['12:15'])
  assert.equal(sink.rows.length, 0)
})

test('a row without a parsable window time or with a null group is a dead letter, not state', () => {
  const rows = [
    { values: { word: null, event_time: '2026-01-01T12:00:00Z' }, source: record('0') },
    { values: { word: 'a', event_time: 'soon' }, source: record('1') },
  ]
  const { claim, dead } = claimWindows(rows, STEP, 'p', { batchId: 0, start: {}, end: {}, watermarkMs: null, plannedAt: new Date().toISOString() }, false, 0)
  assert.deepEqual(dead.map((d) => d.code), ['RECORD_TRANSFORM', 'RECORD_EVENT_TIME'])
  assert.equal(claim.rows.length, 0)
})

function record(offset: string) {
  return { partition: 'p0', topic: 't', partitionNumber: 0, offset, key: null, value: Buffer.from('{}'), timestamp: 0, headers: [] }
}

// Session windows (Spark's session_window, append mode): a 5-minute gap, a 10-minute watermark.
const SESSIONS: AggregateSpec = { groupBy: ['user'], aggregations: { count: { fn: 'count' } }, session: { column: 'event_time', gap: 5 * MIN } }
const SESSION_TRIGGERS: readonly (readonly (readonly [string, string])[])[] = [
  [['12:00', 'u'], ['12:03', 'u'], ['12:01', 'v']], // u [12:00, 12:08), v [12:01, 12:06); watermark after: 11:53
  [['12:10', 'u'], ['12:06', 'u'], ['12:20', 'v']], // 12:06 bridges u's [12:00, 12:08) and [12:10, 12:15): one session; 12:10 closes v's first
  [['12:30', 'w']], // 12:20 closes u [12:00, 12:15)
  [['12:12', 'u'], ['12:40', 'x']], // u 12:12 opens [12:12, 12:17), ended before 12:20: late; 12:30 closes v [12:20, 12:25)
]
const SESSION_ROWS = [[], ['12:01-12:06 v 1'], ['12:00-12:15 u 4'], ['12:20-12:25 v 1']]

test('session windows in append mode: sessions extend and merge across batches, each written once when the watermark passes its end', async () => {
  const source = new MemorySource([[]])
  const sink = new MemorySink()
  let n = 0
  for (const [i, events] of SESSION_TRIGGERS.entries()) {
    const before = sink.rows.length
    source.append(events.map(([t, user]) => JSON.stringify({ id: n++, user, event_time: new Date(at(t)).toISOString() })), 0)
    await (await memoryQuery(source, sink, { trigger: { type: 'once' }, watermarkDelayMs: 10 * MIN, windowAppend: { spec: SESSIONS, step: 'transform[0]' }, outputMode: 'append' })).run()
    const rows = sink.rows.slice(before).map((r) => `${hm(r.window_start)}-${hm(r.window_end)} ${String(r.user)} ${String(r.count)}`)
    assert.deepEqual(rows, SESSION_ROWS[i], `trigger ${i + 1}`)
  }
  const late = sink.side.late ?? []
  assert.deepEqual(late.map((l) => l['sluice.error.reason']), ['session [2026-01-01T12:12:00.000Z, 2026-01-01T12:17:00.000Z) of event time 2026-01-01T12:12:00.000Z ended at or before the watermark 2026-01-01T12:20:00.000Z'])
  assert.deepEqual([...sink.windowStates.values()].map((w) => hm(w.endMs)).sort(byText), ['12:35', '12:45'])
})

test('a session also closes after its stateTimeout without new records, in processing time (the batch plan time)', async () => {
  const sink = new MemorySink()
  const spec: AggregateSpec = { ...SESSIONS, stateTimeout: 60_000 }
  const P0 = Date.UTC(2026, 11, 1, 9)
  let batchId = 0
  const commitAt = async (processingMs: number, events: readonly (readonly [string, string])[]) => {
    const rows = events.map(([t, user], i) => ({ values: { user, event_time: new Date(at(t)).toISOString() }, source: record(String(batchId * 10 + i)), eventTimeMs: at(t) }))
    const planned = { batchId, start: {}, end: { p0: String(batchId + 1) }, watermarkMs: null, plannedAt: new Date(processingMs).toISOString() }
    const { claim } = claimWindows(rows, { spec, step: 'transform[0]' }, 'p', planned, true, 0)
    const mark = { pipelineId: 'p', batchId, exactlyOnce: true, recordCount: rows.length, start: (batchId === 0 ? {} : { p0: String(batchId) }) as Record<string, string>, end: planned.end, nextWatermarkMs: null, checkpointLocation: null }
    batchId++
    const before = sink.rows.length
    await commitBatch(sink.parts(), { mark, table: { rows: [] }, dead: [], late: [], windows: claim })
    return sink.rows.slice(before).map((r) => `${hm(r.window_start)}-${hm(r.window_end)} ${String(r.user)} ${String(r.count)}`)
  }
  assert.deepEqual(await commitAt(P0, [['12:00', 'u'], ['12:01', 'u']]), [])
  // 30 s later: v starts; u has been idle 30 s (< 60 s): nothing closes, no watermark at all.
  assert.deepEqual(await commitAt(P0 + 30_000, [['12:02', 'v']]), [])
  // 50 s later u gets a record: its session is extended and its timeout renewed.
  assert.deepEqual(await commitAt(P0 + 50_000, [['12:04', 'u']]), [])
  // At 95 s: v idle 65 s closes; u idle 45 s stays.
  assert.deepEqual(await commitAt(P0 + 95_000, []), ['12:02-12:07 v 1'])
  assert.deepEqual(await commitAt(P0 + 111_000, []), ['12:00-12:09 u 3'])
  assert.equal(sink.windowStates.size, 0)
})

test('session windows in complete mode: every session in the table, rows replaced as sessions extend, merge or start earlier', async () => {
  const source = new MemorySource([[]])
  const sink = new MemorySink({ writeMode: 'upsert', keys: ['user', 'window_start'] })
  const triggers: readonly (readonly (readonly [string, string])[])[] = [
    [['12:00', 'u'], ['12:03', 'u'], ['12:30', 'w']],
    [['12:10', 'u'], ['12:06', 'u']], // bridges u's sessions: [12:00, 12:15), same start: replaced in place
    [['12:27', 'w'], ['11:00', 'v']], // w starts earlier: [12:27, 12:35) replaces [12:30, 12:35); nothing is late in complete mode
  ]
  const tables: string[][] = []
  let n = 0
  for (const events of triggers) {
    source.append(events.map(([t, user]) => JSON.stringify({ id: n++, user, event_time: new Date(at(t)).toISOString() })), 0)
    await (await memoryQuery(source, sink, { trigger: { type: 'once' }, watermarkDelayMs: 10 * MIN, windowAppend: { spec: SESSIONS, step: 'transform[0]', mode: 'complete' }, outputMode: 'complete' })).run()
    tables.push(sink.rows.map((r) => `${String(r.user)} ${hm(r.window_start)}-${hm(r.window_end)} ${String(r.count)}`).sort(byText))
  }
  assert.deepEqual(tables, [
    ['u 12:00-12:08 2', 'w 12:30-12:35 1'],
    ['u 12:00-12:15 4', 'w 12:30-12:35 1'],
    ['u 12:00-12:15 4', 'v 11:00-11:05 1', 'w 12:27-12:35 2'],
  ])
  assert.deepEqual(sink.side.late ?? [], [])
  assert.equal(sink.windowStates.size, 3, 'complete mode keeps every session')
})

test('the three modes on the guide input, batch by batch: update upserts what changed, complete holds everything, append writes closed windows once', async () => {
  const run = async (mode: 'update' | 'complete') => {
    const source = new MemorySource([[]])
    const sink = new MemorySink({ writeMode: 'upsert', keys: ['word', 'window_start'] })
    const changed: string[][] = []
    let n = 0
    for (const words of TRIGGERS) {
      const before = new Set(sink.rows.map(line))
      source.append(words.map(([t, word]) => JSON.stringify({ id: n++, word, event_time: new Date(at(t)).toISOString() })), 0)
      await (await memoryQuery(source, sink, { trigger: { type: 'once' }, watermarkDelayMs: 10 * MIN, aggregate: WORDS, outputMode: mode })).run()
      changed.push(sink.rows.map(line).filter((l) => !before.has(l)).sort(byText))
    }
    return { changed, final: sink.rows.map(line).sort(byText), late: (sink.side.late ?? []).length }
  }
  const update = await run('update')
  // Each trigger's changed rows, by hand: the windows of its events, with their running counts.
  assert.deepEqual(update.changed, [
    ['11:55-12:05 cat 1', '11:55-12:05 dog 1', '12:00-12:10 cat 1', '12:00-12:10 dog 1'],
    ['12:00-12:10 dog 2', '12:00-12:10 owl 1', '12:05-12:15 dog 1', '12:05-12:15 owl 1'],
    ['12:00-12:10 cat 2', '12:05-12:15 cat 1', '12:05-12:15 dog 2', '12:10-12:20 dog 1'],
    ['12:00-12:10 dog 3', '12:05-12:15 dog 3', '12:05-12:15 owl 2', '12:10-12:20 cat 1', '12:10-12:20 owl 1', '12:15-12:25 cat 1', '12:15-12:25 owl 1', '12:20-12:30 owl 1'],
    ['12:10-12:20 owl 2', '12:15-12:25 owl 2'], // donkey is late: its windows ended by 12:11
    ['12:35-12:45 cat 1', '12:40-12:50 cat 1'],
  ])
  assert.equal(update.late, 1)
  const complete = await run('complete')
  // Complete mode drops nothing: the late donkey counts in its two windows.
  assert.deepEqual(complete.final, [...update.final, '11:55-12:05 donkey 1', '12:00-12:10 donkey 1'].sort(byText))
  assert.equal(complete.late, 0)
})
