/**
 * The conformance suite every Sink runs (aesthetics: one shared suite per connector family). A harness
 * gives the suite a fresh sink writing into an empty `events` table
 *   (id bigint primary key, name varchar(20) not null, amount numeric(12,2), ts timestamptz, payload jsonb)
 * and a way to run SQL against the same database for assertions. The suite checks the Sink contract:
 * first run, commit, duplicate batch, fencing, all-or-nothing on failure, bad-row isolation with side
 * outputs in the same transaction, watermark and position round trip, and at-least-once mode.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { RowValues } from '../../src/api/record.ts'
import type { RejectHandler, Sink } from '../../src/api/sink.ts'
import { isSluiceError } from '../../src/errors.ts'
import { batch } from '../../src/components/sinks/postgres/testing.ts'

/** One sink under test, on its own empty `events` table. */
export interface SinkFixture {
  readonly sink: Sink
  /** Runs SQL against the sink's database (table names unqualified: the fixture's namespace). */
  query(sql: string): Promise<RowValues[]>
  teardown(): Promise<void>
}

/** How the suite gets sinks. `writeMode` is append unless a test says otherwise. */
export interface SinkHarness {
  readonly name: string
  setup(options: { writeMode: 'append' | 'upsert'; upsertKeys?: string[] }): Promise<SinkFixture>
}

const signal = () => AbortSignal.timeout(60_000)

const good = (id: number, name = `n${id}`): RowValues => ({ id, name, amount: id * 1.5, ts: new Date(1764000000000 + id), payload: { id, tags: ['a', 'b'] } })

const toDlq: RejectHandler = (rejected) => [
  {
    table: 'events_dlq',
    columns: { code: 'text', reason: 'text', source_offset: 'text' },
    rows: rejected.map((r) => ({ code: r.error.code, reason: r.error.message, source_offset: r.row.source.offset })),
  },
]

async function count(f: SinkFixture, table = 'events'): Promise<number> {
  const rows = await f.query(`SELECT count(*)::int AS n FROM ${table}`)
  return rows[0]?.n as number
}

/** Registers the conformance tests for one sink implementation. */
export function sinkConformanceSuite(harness: SinkHarness): void {
  describe(`Sink conformance: ${harness.name}`, () => {
    let f: SinkFixture
    before(async () => {
      f = await harness.setup({ writeMode: 'append' })
      await f.sink.open(signal())
    })
    after(async () => {
      await f.sink.close()
      await f.teardown()
    })

    test('a first run has no committed state', async () => {
      assert.equal(await f.sink.committedState('test-pipeline'), null)
    })

    test('a batch commits its rows, position and watermark together', async () => {
      const r = await f.sink.write(batch(1, [good(1), good(2)], { watermark: 1764000000000 }))
      assert.deepEqual({ status: r.status, written: r.written, rejected: r.rejected.length }, { status: 'committed', written: 2, rejected: 0 })
      assert.equal(await count(f), 2)
      assert.deepEqual(await f.sink.committedState('test-pipeline'), { batchId: 1, position: { 't/0': '1000' }, watermarkMs: 1764000000000 })
      const stored = await f.query(`SELECT id::int AS id, name, amount::float8 AS amount, payload FROM events WHERE id = 2`)
      assert.deepEqual(stored, [{ id: 2, name: 'n2', amount: 3, payload: { id: 2, tags: ['a', 'b'] } }])
    })

    test('the same batch written again is a duplicate: 2 rows, not 4', async () => {
      const r = await f.sink.write(batch(1, [good(1), good(2)]))
      assert.equal(r.status, 'duplicate')
      assert.equal(r.written, 0)
      assert.equal(await count(f), 2)
    })

    test('a batch whose start is not the stored position is fenced and writes nothing', async () => {
      const stale = batch(2, [good(3)], { start: 500 })
      await assert.rejects(f.sink.write(stale), (err: unknown) => isSluiceError(err, 'SINK_FENCED') && !err.retryable)
      assert.equal(await count(f), 2)
      assert.equal((await f.sink.committedState('test-pipeline'))?.batchId, 1)
    })

    test('a refused row without a reject handler fails the whole batch, nothing commits', async () => {
      const bad = batch(2, [good(3), { id: 4, name: null }, good(5)])
      await assert.rejects(f.sink.write(bad), (err: unknown) => isSluiceError(err, 'RECORD_COLUMN') && !err.retryable)
      assert.equal(await count(f), 2)
      assert.equal((await f.sink.committedState('test-pipeline'))?.batchId, 1)
    })

    test('refused rows are isolated; good rows and side outputs commit in the same transaction', async () => {
      const rows = [good(3), { id: 4, name: 'x'.repeat(50) }, good(5), { id: 6, name: null }, good(7)]
      const r = await f.sink.write(batch(2, rows), toDlq)
      assert.equal(r.status, 'committed')
      assert.equal(r.written, 3)
      assert.deepEqual(r.rejected.map((x) => [x.row.source.offset, x.error.code]), [['1001', 'RECORD_COLUMN'], ['1003', 'RECORD_COLUMN']])
      assert.deepEqual((await f.query('SELECT id::int AS id FROM events ORDER BY id')).map((x) => x.id), [1, 2, 3, 5, 7])
      const dlq = await f.query('SELECT code, source_offset FROM events_dlq ORDER BY source_offset')
      assert.deepEqual(dlq, [{ code: 'RECORD_COLUMN', source_offset: '1001' }, { code: 'RECORD_COLUMN', source_offset: '1003' }])
    })

    test('a duplicate of a batch with rejects rewrites neither rows nor side outputs', async () => {
      const r = await f.sink.write(batch(2, [good(3), { id: 4, name: 'x'.repeat(50) }]), toDlq)
      assert.equal(r.status, 'duplicate')
      assert.equal(await count(f, 'events_dlq'), 2)
    })

    test('side outputs of the batch itself are written with it', async () => {
      const side = [{ table: 'events_late', columns: { id: 'bigint', reason: 'text' }, rows: [{ id: 99, reason: 'late' }] }]
      await f.sink.write(batch(3, [good(8)], { sideOutputs: side }))
      assert.deepEqual(await f.query('SELECT id::int AS id, reason FROM events_late'), [{ id: 99, reason: 'late' }])
    })

    test('at-least-once writes rows without tracker or position', async () => {
      const before = await f.sink.committedState('test-pipeline')
      await f.sink.write(batch(9, [good(100)], { exactlyOnce: false }))
      await f.sink.write(batch(9, [good(101)], { exactlyOnce: false }))
      assert.equal(await count(f, 'events WHERE id >= 100'), 2)
      assert.deepEqual(await f.sink.committedState('test-pipeline'), before)
    })

    test('ping answers', async () => {
      await f.sink.ping(signal())
    })

    describe('upsert', () => {
      let u: SinkFixture
      before(async () => {
        u = await harness.setup({ writeMode: 'upsert', upsertKeys: ['id'] })
        await u.sink.open(signal())
      })
      after(async () => {
        await u.sink.close()
        await u.teardown()
      })

      test('the last record of a key in a batch wins, existing keys are updated', async () => {
        await u.sink.write(batch(1, [good(1, 'first'), good(2, 'two'), good(1, 'second'), good(1, 'last')], { pipelineId: 'up' }))
        await u.sink.write(batch(2, [good(2, 'two-b'), good(3, 'three')], { pipelineId: 'up' }))
        const rows = await u.query('SELECT id::int AS id, name FROM events ORDER BY id')
        assert.deepEqual(rows, [{ id: 1, name: 'last' }, { id: 2, name: 'two-b' }, { id: 3, name: 'three' }])
      })

      test('a refused row in an upsert batch is isolated', async () => {
        const r = await u.sink.write(batch(3, [good(4, 'four'), { id: 5, name: null }, good(1, 'again')], { pipelineId: 'up' }), toDlq)
        assert.equal(r.written, 2)
        assert.equal(r.rejected.length, 1)
        assert.deepEqual((await u.query('SELECT name FROM events WHERE id IN (1, 4) ORDER BY id')).map((x) => x.name), ['again', 'four'])
      })
    })
  })
}
