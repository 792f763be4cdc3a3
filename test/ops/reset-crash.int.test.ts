/**
 * `sluice reset` and the processes around it, against a real broker and PostgreSQL: refused while a
 * `sluice run` of the pipeline is running (also after the run's lock connection was cut, which the
 * worker repairs by itself), allowed once it stopped or was killed; a reset SIGKILLed inside its
 * transaction leaves every position old and its rerun completes; a plan the checkpoint folder made
 * before the reset is never replayed; and the seed's monitoring SQL still sees one gapless batch
 * sequence afterwards.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, test } from 'node:test'
import { runSluice, startSluice, waitForOutput } from '../helpers/cli.ts'
import { errorOf, fx, ids, pipelineVariant, positions, produceEvents, range, reset, runFresh, setupReset, trackerRows } from './reset-support.ts'
import { until } from './support.ts'

/** Cuts the connection on which the running worker holds the run lock (as a database restart would). */
async function cutRunLock(): Promise<number> {
  const cut = await fx.s.pool.query(
    `SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.classid = 1397511491 AND a.application_name = 'sluice run lock'
       AND l.objid::text::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296`,
    [`${fx.s.schema}.${fx.pipelineId}`],
  )
  return cut.rows.length
}

describe('sluice reset around running and crashing processes', () => {
  before(setupReset)
  after(async () => {
    await fx.s.drop()
  })

  test('refused while a sluice run of the pipeline is running, even after its lock connection was cut; allowed once it stopped or was killed', async () => {
    const continuous = await pipelineVariant({ trigger: 'continuous' })
    const worker = startSluice(['run', continuous])
    try {
      await waitForOutput(worker, (out) => out.includes('query resumed'), 60_000)
      const refused = await runSluice(['reset', fx.file, '--to', 'earliest', '--json'])
      assert.equal(refused.code, 1, refused.stdout + refused.stderr)
      assert.equal(errorOf(refused).code, 'PIPELINE_RUNNING')
      assert.match(errorOf(refused).message, new RegExp(`a worker of pipeline ${fx.pipelineId} is running .*stop every sluice run of it`))
      const text = await runSluice(['reset', fx.file, '--to', 'earliest'])
      assert.equal(text.code, 1)
      assert.match(text.stderr, /^sluice: PIPELINE_RUNNING: /)
      assert.equal((await reset('earliest', '--dry-run')).running, true, 'a dry run reports the running worker')
      // A database restart cuts the lock's connection: the worker takes the lock again by itself.
      assert.equal(await cutRunLock(), 1, 'the worker holds the lock on one connection')
      await waitForOutput(worker, (out) => out.includes('run lock taken again'), 30_000)
      assert.equal(errorOf(await runSluice(['reset', fx.file, '--to', 'earliest', '--json'])).code, 'PIPELINE_RUNNING')
    } finally {
      worker.child.kill('SIGTERM')
    }
    const stopped = await worker.done
    assert.equal(stopped.code, 0, stopped.stderr.slice(-2000))
    assert.equal((await reset('earliest', '--dry-run')).running, false)
    // A worker killed with SIGKILL leaves no lock behind: its connection is gone with it.
    const killed = startSluice(['run', continuous])
    await waitForOutput(killed, (out) => out.includes('query resumed'), 60_000)
    assert.equal(errorOf(await runSluice(['reset', fx.file, '--to', 'earliest', '--json'])).code, 'PIPELINE_RUNNING')
    killed.child.kill('SIGKILL')
    await killed.done
    await until("the killed worker's lock is gone", async () => !(await reset('earliest', '--dry-run')).running, 20_000)
    assert.deepEqual(await positions(), { '0': '150', '1': '150' }, 'nothing moved meanwhile')
  })

  for (const point of ['reset-positions-written', 'reset-before-commit']) {
    test(`SIGKILL at ${point}: every position stays old, and the reset run again completes`, async () => {
      const before = await positions()
      const tracker = await trackerRows()
      const killed = await runSluice(['reset', fx.file, '--to', 'earliest'], { SLUICE_FAILPOINTS: `${point}=kill` })
      assert.equal(killed.signal, 'SIGKILL', killed.stdout + killed.stderr)
      assert.match(killed.stderr, new RegExp(`failpoint ${point}@${tracker.length}: SIGKILL`))
      assert.deepEqual(await positions(), before, 'all old')
      assert.deepEqual(await trackerRows(), tracker)
      const history = await fx.s.pool.query('SELECT 1 FROM sluice_position_resets WHERE pipeline_id = $1 AND batch_id = $2', [fx.pipelineId, tracker.length])
      assert.equal(history.rows.length, 0)
      const r = await reset('earliest')
      assert.equal(r.batchId, tracker.length)
      assert.deepEqual(await positions(), { '0': '0', '1': '0' }, 'all new')
      await runFresh()
      assert.deepEqual(await ids(), range(0, 300))
    })
  }

  test('a plan the checkpoint folder made before the reset is not replayed: the next run reads from the reset', async () => {
    await produceEvents(300, 10)
    const planned = (await trackerRows()).length
    const killed = await runSluice(['run', fx.file], { SLUICE_FAILPOINTS: `after-plan@${planned}=kill` })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr.slice(-2000))
    await reset(JSON.stringify({ [`${fx.topic}/0`]: 140, [`${fx.topic}/1`]: 153 }))
    const r = await runFresh()
    assert.doesNotMatch(r.stdout + r.stderr, /re-running a planned batch/)
    // Partition 0 from offset 140 (record 280), partition 1 from offset 153 (record 307).
    assert.deepEqual(await ids(), [...range(280, 310, 2), 307, 309].sort((a, b) => a - b))
  })

  test('the monitoring SQL still sees one gapless batch sequence, each reset a 0-record batch', async () => {
    const text = await readFile(new URL('../../ops/sql/monitoring.sql', import.meta.url), 'utf8')
    const statements = text.split(/;[ \t]*$/m).map((q) => q.trim()).filter((q) => q.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('--')))
    const [lastBatch, , , gaps] = statements as [string, string, string, string]
    const tracker = await trackerRows()
    tracker.forEach((row, i) => assert.equal(row.batch_id, String(i), 'ids 0..n-1'))
    const last = (await fx.s.pool.query<{ pipeline_id: string; last_batch_id: string }>(lastBatch)).rows.find((row) => row.pipeline_id === fx.pipelineId)
    assert.equal(Number(last?.last_batch_id), tracker.length - 1)
    assert.deepEqual((await fx.s.pool.query<{ pipeline_id: string }>(gaps)).rows.filter((row) => row.pipeline_id === fx.pipelineId), [])
    const resets = await fx.s.pool.query<{ batch_id: string }>('SELECT batch_id::text FROM sluice_position_resets WHERE pipeline_id = $1 ORDER BY 1', [fx.pipelineId])
    assert.equal(resets.rows.length, 3, 'three resets applied')
    assert.deepEqual(
      tracker.filter((row) => row.record_count === '0').map((row) => row.batch_id).sort(),
      resets.rows.map((row) => row.batch_id).sort(),
      'the 0-record batches are the resets',
    )
  })
})
