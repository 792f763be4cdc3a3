import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as z from 'zod'
import { deduplicateStepSchema, statefulAggregateStepSchema, statefulRules, toAggregationSpecs, toDedupSpec, toWindowSpec, windowSchema } from './stateful-config.ts'

const MIN = 60_000
const AGG = { type: 'aggregate', groupBy: ['user'], aggregations: { n: { fn: 'count' }, avgAmount: { fn: 'Average', field: 'amount' } } }

function issues(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

test('window: tumbling, sliding and offset windows with the seed-style lenient durations', () => {
  assert.deepEqual(windowSchema.parse({ column: 'ts', duration: '5 Minutes' }), { column: 'ts', duration: 5 * MIN })
  assert.deepEqual(windowSchema.parse({ column: 'ts', duration: '10m', slide: '5 min', startTime: '-2 minutes' }), { column: 'ts', duration: 10 * MIN, slide: 5 * MIN, startTime: -2 * MIN })
  assert.deepEqual(windowSchema.parse({ column: 'ts', duration: 600000, slide: '300000', startTime: 120000 }), { column: 'ts', duration: 10 * MIN, slide: 5 * MIN, startTime: 2 * MIN })
  assert.deepEqual(toWindowSpec(windowSchema.parse({ column: 'ts', duration: '10m', slide: '5m', startTime: '- 1 minute' })), { durationMs: 10 * MIN, slideMs: 5 * MIN, startTimeMs: -MIN })
  assert.deepEqual(toWindowSpec(windowSchema.parse({ column: 'ts', duration: '1 hour' })), { durationMs: 60 * MIN })
})

test("window: Spark's checks are refused with the field named", () => {
  assert.deepEqual(issues(windowSchema, { column: 'ts', duration: '5m', slide: '10m' }), ['slide: the slide (600000 ms) must be at most the window duration (300000 ms)'])
  assert.deepEqual(issues(windowSchema, { column: 'ts', duration: '10m', slide: '5m', startTime: '5m' }), ['startTime: the absolute value of startTime (300000 ms) must be less than the slide (300000 ms)'])
  assert.deepEqual(issues(windowSchema, { column: 'ts', duration: '10m', startTime: '-10m' }), ['startTime: the absolute value of startTime (-600000 ms) must be less than the slide (600000 ms)'])
  assert.match(issues(windowSchema, { column: 'ts', duration: '0 s' }).join(), /duration: must be longer than zero/)
  assert.match(issues(windowSchema, { column: 'ts', duration: '5m', startTime: 'soon' }).join(), /startTime: must be .*optionally negative/)
  assert.match(issues(windowSchema, { column: 'ts', duration: '5m', slid: '1m' }).join(), /unknown key/)
})

test('aggregate step: window or session, not both; the existing fields parse as before', () => {
  const w = statefulAggregateStepSchema.parse({ ...AGG, window: { column: 'ts', duration: '5 minutes' } })
  assert.deepEqual(w.window, { column: 'ts', duration: 5 * MIN })
  assert.equal(w.aggregations['avgAmount']?.fn, 'avg')
  const s = statefulAggregateStepSchema.parse({ ...AGG, session: { column: 'ts', gap: '10 minutes' } })
  assert.deepEqual(s.session, { column: 'ts', gap: 10 * MIN })
  assert.deepEqual(issues(statefulAggregateStepSchema, { ...AGG, window: { column: 'ts', duration: '5m' }, session: { column: 'ts', gap: '1m' } }), ['session: an aggregate step has either a window or a session, not both'])
  assert.match(issues(statefulAggregateStepSchema, { ...AGG, session: { column: 'ts', gap: 0 } }).join(), /session.gap: must be longer than zero/)
  assert.deepEqual(toAggregationSpecs(w.aggregations), [
    { name: 'n', fn: 'count' },
    { name: 'avgAmount', fn: 'avg', field: 'amount' },
  ])
})

test('deduplicate step: keys with withinWatermark or stateTimeout', () => {
  assert.deepEqual(deduplicateStepSchema.parse({ type: 'deduplicate', keys: ['id'], withinWatermark: 'TRUE' }), { type: 'deduplicate', keys: ['id'], withinWatermark: true })
  assert.deepEqual(deduplicateStepSchema.parse({ type: 'deduplicate', keys: ['id', 'src'], stateTimeout: '1 hour' }), { type: 'deduplicate', keys: ['id', 'src'], stateTimeout: 60 * MIN })
  assert.deepEqual(issues(deduplicateStepSchema, { type: 'deduplicate', keys: ['id'], withinWatermark: true, stateTimeout: '1h' }), ['stateTimeout: use withinWatermark or stateTimeout, not both'])
  assert.deepEqual(issues(deduplicateStepSchema, { type: 'deduplicate', keys: [] }), ['keys: must list at least one column'])
})

test('cross-section rules: append needs a watermark on the window column; no session in update; dedup needs a watermark or a timeout', () => {
  const wm = { watermark: { eventTimeColumn: 'ts', delayThreshold: 10 * MIN } }
  const windowed = statefulAggregateStepSchema.parse({ ...AGG, window: { column: 'ts', duration: '5m' } })
  const session = statefulAggregateStepSchema.parse({ ...AGG, session: { column: 'ts', gap: '5m' } })
  const plain = statefulAggregateStepSchema.parse(AGG)
  assert.deepEqual(statefulRules(windowed, 2, 'append', wm), [])
  assert.deepEqual(statefulRules(windowed, 2, 'update', undefined), [])
  assert.match(statefulRules(windowed, 2, 'append', undefined)[0]?.message ?? '', /needs a window or session and a watermark/)
  assert.match(statefulRules(plain, 2, 'append', wm)[0]?.message ?? '', /needs a window or session/)
  assert.deepEqual(statefulRules(session, 2, 'update', wm).map((i) => i.path.join('.')), ['streamingConfigJson.outputMode'])
  assert.deepEqual(statefulRules(session, 2, 'complete', wm), [])
  const otherColumn = statefulAggregateStepSchema.parse({ ...AGG, window: { column: 'created', duration: '5m' } })
  assert.deepEqual(statefulRules(otherColumn, 2, 'update', wm).map((i) => i.path.join('.')), ['transform.2.window.column'])

  const ww = deduplicateStepSchema.parse({ type: 'deduplicate', keys: ['id'], withinWatermark: true })
  const bare = deduplicateStepSchema.parse({ type: 'deduplicate', keys: ['id'] })
  assert.deepEqual(statefulRules(ww, 0, 'append', wm), [])
  assert.match(statefulRules(ww, 0, 'append', undefined)[0]?.message ?? '', /needs streamingConfigJson.watermark/)
  assert.match(statefulRules(bare, 0, 'append', wm)[0]?.message ?? '', /needs withinWatermark: true or a stateTimeout/)
  assert.deepEqual(statefulRules(bare, 0, 'append', { stateTimeout: 5 * MIN }), [])
  assert.deepEqual(toDedupSpec(ww, wm), { keys: ['id'], withinWatermark: { delayMs: 10 * MIN } })
  assert.deepEqual(toDedupSpec(bare, { stateTimeout: 5 * MIN }), { keys: ['id'], stateTimeoutMs: 5 * MIN })
  assert.throws(() => toDedupSpec(bare, undefined), /needs withinWatermark or a stateTimeout/)
})

test('the schemas produce a JSON Schema (what sluice schema prints once they are wired in)', () => {
  for (const schema of [statefulAggregateStepSchema, deduplicateStepSchema]) {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' })
    assert.equal(json['type'], 'object')
  }
  const windowJson = z.toJSONSchema(windowSchema, { target: 'draft-2020-12', io: 'input' }) as unknown as { properties: { startTime: { anyOf: { pattern?: string }[] } } }
  const pattern = new RegExp(windowJson.properties.startTime.anyOf.find((a) => a.pattern !== undefined)?.pattern ?? '^$')
  assert.ok(pattern.test('-2 minutes') && pattern.test('2 minutes') && pattern.test(' - 90 s'), 'editors accept what the parser accepts')
  assert.ok(!pattern.test('--2 minutes'))
})
