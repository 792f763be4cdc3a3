// sluice-test: serial (terminates every idle-in-transaction backend of the test database; scripts/run-tests.ts)
/**
 * Exactly-once across crashes: a real broker, a real PostgreSQL, the real CLI in a child process
 * killed with SIGKILL at each point of the commit protocol, then restarted. Every produced record
 * must be in the table exactly once and batch_tracker ids must be contiguous.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, startSluice, waitForOutput } from '../helpers/cli.ts'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, events, pipelineFile, topicWithEvents } from './fixtures.ts'

const COUNT = 20_000
let topic: string

before(async () => {
  topic = await topicWithEvents(COUNT, 3)
})

async function freshSchema(): Promise<TestSchema> {
  const s = await createTestSchema('eo')
  await s.pool.query(EVENTS_DDL)
  return s
}

describe('exactly-once Kafka -> PostgreSQL', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('a clean availablenow run loads every record once, in bounded batches', async () => {
    const s = await freshSchema()
    schemas.push(s)
    const { file } = await pipelineFile(s, topic, { maxOffsets: 5000 })
    const run = await runSluice(['run', file, '--json'])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    const batches = await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT)
    assert.equal(batches, 4, 'maxOffsetsPerTrigger 5000 splits 20000 records into exactly 4 batches')
    const { rows } = await s.pool.query<{ record_count: string }>('SELECT record_count FROM batch_tracker ORDER BY batch_id')
    assert.deepEqual(rows.map((r) => Number(r.record_count)), [5000, 5000, 5000, 5000], 'each batch is filled to the limit, across the 3 partitions')
    const summary = JSON.parse(run.stdout) as { ok: boolean; queries: { summary: { recordsRead: number; written: number } }[] }
    assert.equal(summary.ok, true)
    assert.equal(summary.queries[0]?.summary.written, COUNT)
    // A second run finds nothing new and changes nothing.
    const again = await runSluice(['run', file])
    assert.equal(again.code, 0, again.stderr.slice(-2000))
    await assertExactlyOnce(s, COUNT)
  })

  for (const point of ['after-plan', 'mid-fetch', 'mid-copy', 'before-commit', 'after-commit', 'before-commit-file', 'after-commit-file']) {
    test(`SIGKILL at ${point} of batch 1, then restart: every record exactly once`, async () => {
      const s = await freshSchema()
      schemas.push(s)
      const { file } = await pipelineFile(s, topic, { maxOffsets: 4000 })
      const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: `${point}@1=kill` })
      assert.equal(crashed.signal, 'SIGKILL', `the failpoint killed the process\n${crashed.stderr.slice(-2000)}`)
      const restarted = await runSluice(['run', file])
      assert.equal(restarted.code, 0, restarted.stderr.slice(-3000))
      await assertExactlyOnce(s, COUNT)
      await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT)
    })
  }

  test("the seed's recovery scenario: batches 0-2 commit, batch 3 dies mid-write, restart completes it once", async () => {
    const s = await freshSchema()
    schemas.push(s)
    const { file } = await pipelineFile(s, topic, { maxOffsets: 2000 })
    const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-copy@3=kill' })
    assert.equal(crashed.signal, 'SIGKILL')
    const { rows } = await s.pool.query<{ batch_id: string }>('SELECT batch_id FROM batch_tracker ORDER BY batch_id')
    assert.deepEqual(rows.map((r) => Number(r.batch_id)), [0, 1, 2], 'batches 0-2 committed, batch 3 rolled back')
    const restarted = await runSluice(['run', file])
    assert.equal(restarted.code, 0, restarted.stderr.slice(-3000))
    assert.match(restarted.stdout + restarted.stderr, /re-running a planned batch/)
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT)
  })

  test('checkpoint folder lost: resumes from the position stored in PostgreSQL', async () => {
    const s = await freshSchema()
    schemas.push(s)
    const { file, dir } = await pipelineFile(s, topic, { maxOffsets: 5000, trigger: 'once' })
    assert.equal((await runSluice(['run', file])).code, 0)
    const { rm } = await import('node:fs/promises')
    await rm(`${dir}/checkpoint`, { recursive: true, force: true })
    const { file: file2 } = await pipelineFile(s, topic, { maxOffsets: 5000 })
    const rest = await runSluice(['run', file2])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT)
  })

  test('the database connection is killed mid-batch (pg_terminate_backend): retried, nothing lost or doubled', async () => {
    const s = await freshSchema()
    schemas.push(s)
    const { file } = await pipelineFile(s, topic, { maxOffsets: 5000 })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'before-commit@1=sleep:2000' })
    await waitForOutput(running, (o) => o.includes('failpoint before-commit@1: sleeping'))
    const killed = await s.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'`,
    )
    assert.ok((killed.rowCount ?? 0) >= 1, 'a backend in the middle of the batch transaction was terminated')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    assert.match(result.stdout + result.stderr, /retrying the same batch/)
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT)
  })
})

describe('maxBytesPerTrigger: batches bounded by bytes, planned before they run', () => {
  const COUNT_SMALL = 3000
  const CAP = 64 * 1024
  let small: string
  const schemas: TestSchema[] = []
  before(async () => {
    small = await topicWithEvents(COUNT_SMALL, 3)
  })
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })
  const sizes = events(COUNT_SMALL).map((e) => e.key.length + e.value.length)
  const smallest = Math.min(...sizes)
  const total = sizes.reduce((a, b) => a + b, 0)

  test('"64 KiB" splits the backlog into batches of at most 64 KiB, every record once', async () => {
    const s = await freshSchema()
    schemas.push(s)
    const { file } = await pipelineFile(s, small, { maxBytes: '64 KiB' })
    const run = await runSluice(['run', file, '--json'])
    assert.equal(run.code, 0, run.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT_SMALL)
    const batches = await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT_SMALL)
    assert.ok(batches >= Math.ceil(total / CAP), `${batches} batches for ${total} bytes`)
    const { rows } = await s.pool.query<{ record_count: string }>('SELECT record_count FROM batch_tracker ORDER BY batch_id')
    for (const r of rows) assert.ok(Number(r.record_count) * smallest <= CAP, `a batch of ${r.record_count} records (>= ${smallest} bytes each) passes 64 KiB`)
  })

  test('SIGKILL after planning batch 1, restart with another cap: batch 1 is the range the WAL planned', async () => {
    const s = await freshSchema()
    schemas.push(s)
    const first = await pipelineFile(s, small, { maxBytes: '64 KiB' })
    const crashed = await runSluice(['run', first.file], { SLUICE_FAILPOINTS: 'after-plan@1=kill' })
    assert.equal(crashed.signal, 'SIGKILL', `the failpoint killed the process\n${crashed.stderr.slice(-2000)}`)
    const planned = JSON.parse(await readFile(join(first.dir, 'checkpoint', 'offsets', '1'), 'utf8')) as { start: Record<string, string>; end: Record<string, string> }
    const plannedRecords = Object.entries(planned.end).reduce((a, [k, e]) => a + Number(e) - Number(planned.start[k] ?? 0), 0)
    assert.ok(plannedRecords > 0)
    // Same checkpoint folder, a quarter of the cap: a re-plan would make batch 1 smaller.
    const pipeline = JSON.parse(await readFile(first.file, 'utf8')) as { extract: { connectionParams: Record<string, unknown> } }
    pipeline.extract.connectionParams['maxBytesPerTrigger'] = '16 KiB'
    await writeFile(first.file, JSON.stringify(pipeline))
    const restarted = await runSluice(['run', first.file])
    assert.equal(restarted.code, 0, restarted.stderr.slice(-3000))
    assert.match(restarted.stdout + restarted.stderr, /re-running a planned batch/)
    await assertExactlyOnce(s, COUNT_SMALL)
    await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT_SMALL)
    const { rows } = await s.pool.query<{ batch_id: string; record_count: string }>('SELECT batch_id, record_count FROM batch_tracker ORDER BY batch_id')
    assert.equal(Number(rows[1]?.record_count), plannedRecords, 'batch 1 holds exactly the planned range')
    for (const r of rows.slice(2)) assert.ok(Number(r.record_count) * smallest <= 16 * 1024, `batch ${r.batch_id} follows the new cap`)
  })
})

