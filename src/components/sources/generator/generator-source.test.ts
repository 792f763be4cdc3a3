import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nullLogger, type ComponentContext } from '../../../api/component.ts'
import { advance, type Position } from '../../../api/position.ts'
import type { SourceRecord } from '../../../api/record.ts'
import type { GeneratorExtractConfig } from './config.ts'
import { DEFAULT_BATCH_CAP, GENERATOR_EPOCH_MS, GeneratorSource, type GeneratorSourceOptions } from './generator-source.ts'

const signal = new AbortController().signal
const ctx: ComponentContext = { pipelineId: 't', baseDir: '.', logger: nullLogger, env: {} }

const FIELDS: GeneratorExtractConfig['fields'] = {
  id: { type: 'sequence' },
  qty: { type: 'int', min: 1, max: 5 },
  price: { type: 'float', min: 0, max: 100 },
  status: { type: 'choice', values: ['new', 'paid', true, 7, 'quote"d'] },
  at: { type: 'timestamp', jitterMs: 5000 },
  order_id: { type: 'uuid' },
  note: { type: 'string', length: 12 },
}

function make(overrides: Partial<GeneratorExtractConfig> = {}, options: GeneratorSourceOptions = {}): GeneratorSource {
  return new GeneratorSource({ sourceType: 'generator', partitions: 3, seed: 42, fields: FIELDS, ...overrides }, ctx, options)
}

async function readAll(source: GeneratorSource, from: Position, to: Position): Promise<SourceRecord[]> {
  const out: SourceRecord[] = []
  for await (const chunk of source.read(from, to, signal)) out.push(...chunk)
  return out
}

test('records follow the field spec, value is their JSON, fields are set', async () => {
  const s = make({ totalRecords: 300 })
  const from = await s.initialPosition()
  assert.deepEqual(from, { 'gen/0': '0', 'gen/1': '0', 'gen/2': '0' })
  const to = (await s.plan(from, {}, signal))!
  assert.deepEqual(to, { 'gen/0': '100', 'gen/1': '100', 'gen/2': '100' })
  const records = await readAll(s, from, to)
  assert.equal(records.length, 300)
  const ids = new Set<unknown>()
  for (const r of records) {
    const f = r.fields as Record<string, unknown>
    assert.deepEqual(JSON.parse(r.value!.toString()), f)
    assert.equal(f.id, Number(r.offset) * 3 + r.partitionNumber)
    assert.equal(r.partition, `gen/${r.partitionNumber}`)
    ids.add(f.id)
    assert.ok(Number.isInteger(f.qty) && (f.qty as number) >= 1 && (f.qty as number) <= 5)
    assert.ok((f.price as number) >= 0 && (f.price as number) < 100)
    assert.ok(['new', 'paid', true, 7, 'quote"d'].includes(f.status as string))
    assert.match(f.order_id as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.match(f.note as string, /^[A-Za-z0-9]{12}$/)
    const at = Date.parse(f.at as string)
    assert.equal(r.timestamp, GENERATOR_EPOCH_MS + (f.id as number))
    assert.ok(at <= r.timestamp && at >= r.timestamp - 5000)
  }
  assert.equal(ids.size, 300)
  assert.equal(new Set(records.map((r) => (r.fields as Record<string, unknown>).order_id)).size, 300)
  assert.equal(await s.plan(to, {}, signal), null)
})

test('deterministic: same seed same records, a sub-range re-read alone is identical, another seed differs', async () => {
  const a = await readAll(make(), {}, { 'gen/0': '50', 'gen/1': '50' })
  const b = await readAll(make(), {}, { 'gen/0': '50', 'gen/1': '50' })
  assert.deepEqual(b, a)
  const part = await readAll(make(), { 'gen/0': '20' }, { 'gen/0': '30' })
  assert.deepEqual(part, a.slice(20, 30))
  const other = await readAll(make({ seed: 43 }), {}, { 'gen/0': '50', 'gen/1': '50' })
  assert.notDeepEqual(other.map((r) => r.fields), a.map((r) => r.fields))
})

test('maxRecords takes the lowest sequence numbers and totalRecords ends the stream', async () => {
  const s = make({ totalRecords: 10 })
  let pos: Position = await s.initialPosition()
  const batches: Position[] = []
  for (let to = await s.plan(pos, { maxRecords: 4 }, signal); to; to = await s.plan(pos, { maxRecords: 4 }, signal)) {
    batches.push(to)
    pos = advance(pos, to)
  }
  // total 10 over 3 partitions: 4 + 3 + 3 records
  assert.deepEqual(batches, [
    { 'gen/0': '2', 'gen/1': '1', 'gen/2': '1' },
    { 'gen/0': '3', 'gen/1': '3', 'gen/2': '2' },
    { 'gen/0': '4', 'gen/2': '3' },
  ])
  assert.deepEqual(pos, { 'gen/0': '4', 'gen/1': '3', 'gen/2': '3' })
})

test('unbounded without a rate: maxRecords or the default cap per batch', async () => {
  const s = make({ partitions: 2 })
  assert.deepEqual(await s.plan({}, { maxRecords: 7 }, signal), { 'gen/0': '4', 'gen/1': '3' })
  const half = String(DEFAULT_BATCH_CAP / 2)
  assert.deepEqual(await s.plan({}, {}, signal), { 'gen/0': half, 'gen/1': half })
})

test('rowsPerSecond: what the rate produced since open(), bounded by totalRecords', async () => {
  let now = 1_000_000
  const s = make({ rowsPerSecond: 10, totalRecords: 25 }, { now: () => now })
  const start = await s.initialPosition()
  assert.equal(await s.plan(start, {}, signal), null)
  now += 500
  assert.deepEqual(await s.plan(start, {}, signal), { 'gen/0': '2', 'gen/1': '2', 'gen/2': '1' })
  now += 1000
  const to = (await s.plan(start, {}, signal))!
  assert.deepEqual(to, { 'gen/0': '5', 'gen/1': '5', 'gen/2': '5' })
  assert.deepEqual(await s.latest(), to)
  now += 10_000
  assert.deepEqual(await s.plan(start, {}, signal), { 'gen/0': '9', 'gen/1': '8', 'gen/2': '8' })
  // timestamps follow the rate: 100 ms per sequence number
  const r = await readAll(s, {}, { 'gen/1': '2' })
  assert.deepEqual(r.map((x) => x.timestamp - GENERATOR_EPOCH_MS), [100, 400])
})

test('rate after a restart counts from the resumed position', async () => {
  let now = 0
  const s = make({ rowsPerSecond: 30, partitions: 3 }, { now: () => now })
  const resumed = { 'gen/0': '100', 'gen/1': '100', 'gen/2': '100' }
  assert.equal(await s.plan(resumed, {}, signal), null)
  now = 1000
  assert.deepEqual(await s.plan(resumed, {}, signal), { 'gen/0': '110', 'gen/1': '110', 'gen/2': '110' })
})

test('a large range is generated whole: every record once, in order per partition', async () => {
  // Speed is measured in bench/, not asserted here (a loaded CI machine made a throughput check fail).
  const s = new GeneratorSource(
    {
      sourceType: 'generator',
      partitions: 2,
      seed: 1,
      fields: { id: { type: 'sequence' }, user: { type: 'int', min: 1, max: 10000 }, amount: { type: 'float', min: 0, max: 500 }, kind: { type: 'choice', values: ['view', 'click', 'buy'] }, at: { type: 'timestamp' }, sid: { type: 'string', length: 8 } },
    },
    ctx,
  )
  const n = 200_000
  const next = new Map<string, number>()
  let count = 0
  for await (const chunk of s.read({}, { 'gen/0': String(n / 2), 'gen/1': String(n / 2) }, signal)) {
    for (const r of chunk) {
      assert.equal(Number(r.offset), next.get(r.partition) ?? 0)
      next.set(r.partition, Number(r.offset) + 1)
      count++
    }
  }
  assert.equal(count, n)
  assert.deepEqual(Object.fromEntries(next), { 'gen/0': n / 2, 'gen/1': n / 2 })
})
