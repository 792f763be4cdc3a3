/**
 * `sluice reset` against a real broker and PostgreSQL, through the CLI as the README says: a
 * pipeline runs (`sluice run`), is reset to earliest, a time, explicit offsets and latest, and the
 * next `sluice run` reads exactly from there (rows counted); a dry run changes nothing; the reset is
 * refused while a `sluice run` of the pipeline is running (and not after it stopped or was killed);
 * a reset SIGKILLed inside its transaction leaves every position old, and its rerun completes; a
 * plan the checkpoint folder made before the reset is never replayed; the monitoring SQL still sees
 * one gapless batch sequence; a secured (SASL_SSL) cluster is reset through the same settings.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, test } from 'node:test'
import { createTopic, kafkaBootstrap, produce, securedParams, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { type CliResult, runSluice, startSluice, waitForOutput, writePipeline } from '../helpers/cli.ts'
import { EVENTS_DDL, events, kafkaPipeline } from '../e2e/fixtures.ts'
import { until } from './support.ts'

interface Report {
  ok: boolean
  pipelineId: string
  batchId: number
  applied: boolean
  running: boolean
  dryRun: boolean
  target: string
  partitions: { partition: string; before: string | null; after: string | null; changed: boolean }[]
  watermarkBefore: number | null
  watermarkAfter: number | null
}

const BASE = Date.now() - 86_400_000 // record i was produced at BASE + i s

let s: TestSchema
let topic: string
let file: string
let pipelineId: string

/** Produces events `from`..`from+count-1`, even ids to partition 0 and odd ones to 1, with record times BASE + id s. */
async function produceEvents(from: number, count: number): Promise<void> {
  await produce(topic, events(count, from).map((m, i) => ({ ...m, partition: (from + i) % 2, timestamp: BASE + (from + i) * 1000 })))
}

async function positions(): Promise<Record<string, string>> {
  const { rows } = await s.pool.query<{ partition_key: string; position: string }>('SELECT partition_key, position FROM sluice_source_positions WHERE pipeline_id = $1', [pipelineId])
  return Object.fromEntries(rows.map((r) => [r.partition_key.slice(topic.length + 1), r.position]))
}

async function trackerRows(): Promise<{ batch_id: string; record_count: string }[]> {
  return (await s.pool.query<{ batch_id: string; record_count: string }>('SELECT batch_id::text, record_count::text FROM batch_tracker WHERE pipeline_id = $1 ORDER BY batch_tracker.batch_id', [pipelineId])).rows
}

async function ids(): Promise<number[]> {
  return (await s.pool.query<{ id: string }>('SELECT id FROM events ORDER BY id')).rows.map((r) => Number(r.id))
}

function range(from: number, to: number, step = 1): number[] {
  const out: number[] = []
  for (let i = from; i < to; i += step) out.push(i)
  return out
}

/** `sluice reset <file> --to <to> --json ...`, expecting success. */
async function reset(to: string, ...args: string[]): Promise<Report> {
  const r = await runSluice(['reset', file, '--to', to, '--json', ...args])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  return JSON.parse(r.stdout) as Report
}

/** Empties the table, then `sluice run` (availablenow): the rows are what it read after the reset. */
async function runFresh(): Promise<CliResult> {
  await s.pool.query('TRUNCATE events')
  const r = await runSluice(['run', file])
  assert.equal(r.code, 0, r.stderr.slice(-3000))
  return r
}

function errorOf(r: CliResult): { code: string; message: string } {
  return (JSON.parse(r.stdout) as { ok: false; error: { code: string; message: string } }).error
}

describe('sluice reset', () => {
  before(async () => {
    s = await createTestSchema('rst')
    await s.pool.query(EVENTS_DDL)
    topic = uniqueTopic('rst')
    // The way a user makes a two-partition topic (kafka-topics.sh --create --partitions 2).
    await createTopic(topic, 2)
    await produceEvents(0, 300)
    pipelineId = `rst_${s.schema}`
    ;({ file } = await writePipeline((dir: string) => ({ ...kafkaPipeline(s, topic, dir, { maxOffsets: 120 }), pipelineId })))
    await runFresh()
    assert.deepEqual(await ids(), range(0, 300))
    assert.deepEqual(await positions(), { '0': '150', '1': '150' })
  })
  after(async () => {
    await s.drop()
  })

  test('--dry-run prints every partition before and after and writes nothing', async () => {
    const tracker = await trackerRows()
    const dry = await reset('earliest', '--dry-run')
    assert.equal(dry.dryRun, true)
    assert.equal(dry.applied, false)
    assert.equal(dry.running, false)
    assert.equal(dry.batchId, tracker.length, 'the id a reset would take')
    assert.deepEqual(dry.partitions, [
      { partition: `${topic}/0`, before: '150', after: '0', changed: true },
      { partition: `${topic}/1`, before: '150', after: '0', changed: true },
    ])
    assert.deepEqual(await positions(), { '0': '150', '1': '150' })
    assert.deepEqual(await trackerRows(), tracker)
    // The human form shows the same.
    const text = await runSluice(['reset', file, '--to', 'earliest', '--dry-run'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /dry run of a reset to earliest .*: nothing written; 2 partition\(s\) would move/)
    assert.match(text.stdout, new RegExp(`${topic}/0 +150 +0\\n`))
  })

  test('earliest: the next run reads every record again, and the reset is a 0-record batch of the tracker', async () => {
    const before = await trackerRows()
    const r = await reset('earliest')
    assert.equal(r.applied, true)
    assert.equal(r.batchId, before.length)
    assert.deepEqual(await positions(), { '0': '0', '1': '0' })
    const after = await trackerRows()
    assert.deepEqual(after.at(-1), { batch_id: String(before.length), record_count: '0' })
    const { rows: history } = await s.pool.query('SELECT target, before_positions, after_positions FROM sluice_position_resets WHERE pipeline_id = $1 AND batch_id = $2', [pipelineId, r.batchId])
    assert.deepEqual(history, [{ target: 'earliest', before_positions: { [`${topic}/0`]: '150', [`${topic}/1`]: '150' }, after_positions: { [`${topic}/0`]: '0', [`${topic}/1`]: '0' } }])
    await runFresh()
    assert.deepEqual(await ids(), range(0, 300))
    assert.deepEqual(await positions(), { '0': '150', '1': '150' })
  })

  test('a time: each partition from its first record at or after it (ListOffsets by timestamp)', async () => {
    const r = await reset(new Date(BASE + 200_000).toISOString())
    // Record 200 (partition 0, offset 100) is the first at that time; in partition 1 it is record 201 (offset 100).
    assert.deepEqual(r.partitions.map((p) => p.after), ['100', '100'])
    await runFresh()
    assert.deepEqual(await ids(), range(200, 300))
    // Later than every record: the end of each log (only new records).
    const late = await reset(new Date(BASE + 10_000_000).toISOString(), '--dry-run')
    assert.deepEqual(late.partitions.map((p) => p.after), ['150', '150'])
  })

  test('offsets JSON: the named partitions move, the others keep their positions', async () => {
    const r = await reset(JSON.stringify({ [`${topic}/0`]: 140 }))
    assert.deepEqual(r.partitions.map((p) => [p.before, p.after, p.changed]), [['150', '140', true], ['150', '150', false]])
    assert.deepEqual(await positions(), { '0': '140', '1': '150' })
    await runFresh()
    assert.deepEqual(await ids(), range(280, 300, 2))
  })

  test('latest: the next run reads only records produced after the reset', async () => {
    await produceEvents(300, 20)
    await reset('latest')
    assert.deepEqual(await positions(), { '0': '160', '1': '160' })
    await runFresh()
    assert.deepEqual(await ids(), [])
    await produceEvents(320, 10)
    await runFresh()
    assert.deepEqual(await ids(), range(320, 330))
  })

  test('bad targets are refused, naming the partition and value, and change nothing', async () => {
    const before = await positions()
    const usage = await runSluice(['reset', file, '--to', JSON.stringify({ [`${topic}/0`]: -9 })])
    assert.equal(usage.code, 2, usage.stderr)
    assert.match(usage.stderr, new RegExp(`at "${topic}/0": -9 is not an offset`))
    assert.equal((await runSluice(['reset', file, '--to', 'yesterday'])).code, 2)
    assert.equal((await runSluice(['reset', file])).code, 2, '--to is required')
    const unknown = await runSluice(['reset', file, '--json', '--to', JSON.stringify({ [`${topic}/7`]: 0 })])
    assert.equal(unknown.code, 1)
    assert.equal(errorOf(unknown).code, 'RESET_REFUSED')
    assert.match(errorOf(unknown).message, new RegExp(`at "${topic}/7": the pipeline's topics have no such partition .*${topic}/0, ${topic}/1`))
    const past = await runSluice(['reset', file, '--to', JSON.stringify({ [`${topic}/1`]: 999 })])
    assert.equal(past.code, 1)
    assert.match(past.stderr, new RegExp(`RESET_REFUSED: --to at "${topic}/1": offset 999 is outside the partition's log, which holds offsets 0 to 165`))
    assert.deepEqual(await positions(), before)
  })

  test('refused while a sluice run of the pipeline is running, even after its lock connection was cut; allowed once it stopped or was killed', async () => {
    const { file: continuous } = await writePipeline((dir: string) => ({ ...kafkaPipeline(s, topic, dir, { trigger: 'continuous' }), pipelineId }))
    const worker = startSluice(['run', continuous])
    try {
      await waitForOutput(worker, (out) => out.includes('query resumed'), 60_000)
      const refused = await runSluice(['reset', file, '--to', 'earliest', '--json'])
      assert.equal(refused.code, 1, refused.stdout + refused.stderr)
      assert.equal(errorOf(refused).code, 'PIPELINE_RUNNING')
      assert.match(errorOf(refused).message, new RegExp(`a worker of pipeline ${pipelineId} is running .*stop every sluice run of it`))
      const text = await runSluice(['reset', file, '--to', 'earliest'])
      assert.equal(text.code, 1)
      assert.match(text.stderr, /^sluice: PIPELINE_RUNNING: /)
      const dry = await reset('earliest', '--dry-run')
      assert.equal(dry.running, true, 'a dry run reports the running worker')
      // A database restart cuts the lock's connection: the worker takes the lock again by itself.
      const cut = await s.pool.query(
        `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.classid = 1397511491 AND a.application_name = 'sluice run lock'
           AND l.objid::text::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296`,
        [`${s.schema}.${pipelineId}`],
      )
      assert.equal(cut.rows.length, 1, 'the worker holds one lock connection')
      await waitForOutput(worker, (out) => out.includes('run lock taken again'), 30_000)
      assert.equal(errorOf(await runSluice(['reset', file, '--to', 'earliest', '--json'])).code, 'PIPELINE_RUNNING')
    } finally {
      worker.child.kill('SIGTERM')
    }
    const stopped = await worker.done
    assert.equal(stopped.code, 0, stopped.stderr.slice(-2000))
    const moved = await reset(JSON.stringify({ [`${topic}/0`]: 0 }), '--dry-run')
    assert.equal(moved.running, false)
    // A worker killed with SIGKILL leaves no lock behind: its connection is gone.
    const killed = startSluice(['run', continuous])
    await waitForOutput(killed, (out) => out.includes('query resumed'), 60_000)
    assert.equal(errorOf(await runSluice(['reset', file, '--to', 'earliest', '--json'])).code, 'PIPELINE_RUNNING')
    killed.child.kill('SIGKILL')
    await killed.done
    await until('the killed worker\'s lock is gone', async () => (await runSluice(['reset', file, '--to', 'latest', '--json'])).code === 0, 20_000)
  })

  for (const point of ['reset-positions-written', 'reset-before-commit']) {
    test(`SIGKILL at ${point}: every position stays old, and the reset run again completes`, async () => {
      const before = await positions()
      const tracker = await trackerRows()
      const killed = await runSluice(['reset', file, '--to', 'earliest'], { SLUICE_FAILPOINTS: `${point}=kill` })
      assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr)
      assert.match(killed.stderr, new RegExp(`failpoint ${point}@${tracker.length}: SIGKILL`))
      assert.deepEqual(await positions(), before, 'all old')
      assert.deepEqual(await trackerRows(), tracker)
      assert.equal((await s.pool.query('SELECT 1 FROM sluice_position_resets WHERE pipeline_id = $1 AND batch_id = $2', [pipelineId, tracker.length])).rows.length, 0)
      const r = await reset('earliest')
      assert.equal(r.batchId, tracker.length)
      assert.deepEqual(await positions(), { '0': '0', '1': '0' }, 'all new')
      await runFresh()
      assert.deepEqual(await ids(), range(0, 330))
    })
  }

  test('a plan the checkpoint folder made before the reset is not replayed: the next run reads from the reset', async () => {
    await produceEvents(330, 10)
    const planned = (await trackerRows()).length
    const killed = await runSluice(['run', file], { SLUICE_FAILPOINTS: `after-plan@${planned}=kill` })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr.slice(-2000))
    await reset(JSON.stringify({ [`${topic}/0`]: 160, [`${topic}/1`]: 168 }))
    const r = await runFresh()
    assert.doesNotMatch(r.stdout + r.stderr, /re-running a planned batch/)
    // Partition 0 from offset 160 (record 320), partition 1 from offset 168 (record 337).
    assert.deepEqual(await ids(), [...range(320, 340, 2), 337, 339].sort((a, b) => a - b))
  })

  test('the monitoring SQL still sees one gapless batch sequence with the resets as 0-record batches', async () => {
    const text = await readFile(new URL('../../ops/sql/monitoring.sql', import.meta.url), 'utf8')
    const statements = text.split(/;[ \t]*$/m).map((q) => q.trim()).filter((q) => q.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('--')))
    const [lastBatch, , , gaps] = statements as [string, string, string, string]
    const tracker = await trackerRows()
    tracker.forEach((row, i) => assert.equal(row.batch_id, String(i)))
    const last = (await s.pool.query<{ pipeline_id: string; last_batch_id: string }>(lastBatch)).rows.find((row) => row.pipeline_id === pipelineId)
    assert.equal(Number(last?.last_batch_id), tracker.length - 1)
    assert.deepEqual((await s.pool.query(gaps)).rows.filter((row: { pipeline_id: string }) => row.pipeline_id === pipelineId), [])
    const { rows } = await s.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM sluice_position_resets WHERE pipeline_id = $1', [pipelineId])
    assert.equal((await s.pool.query("SELECT count(*)::text AS n FROM batch_tracker WHERE pipeline_id = $1 AND record_count = 0", [pipelineId])).rows[0]?.n, rows[0]?.n, 'one 0-record tracker row per reset')
  })

  test('a secured cluster (SASL_SSL, SCRAM) is reset through the source\'s own settings', async () => {
    const { file: secured } = await writePipeline((dir: string) => {
      const config = kafkaPipeline(s, topic, dir) as { extract: { connectionParams: Record<string, unknown> } }
      config.extract.connectionParams = { ...config.extract.connectionParams, ...securedParams('SCRAM-SHA-512') }
      return { ...config, pipelineId }
    })
    const r = await runSluice(['reset', secured, '--to', 'latest', '--dry-run', '--json'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.deepEqual((JSON.parse(r.stdout) as Report).partitions.map((p) => p.after), ['170', '170'])
    assert.notEqual(kafkaBootstrap, securedParams('SCRAM-SHA-512')['kafka.bootstrap.servers'])
  })
})
