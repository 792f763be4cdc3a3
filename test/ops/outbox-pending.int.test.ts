/**
 * A long-running pipeline whose Kafka DLQ cannot be reached: the dead letters wait in the outbox,
 * `sluice_outbox_pending` and /status say how many and why, /ready turns 503 once publishing has
 * failed for outboxConfig.stuckAfterSeconds (and not before: a second pipeline with a long
 * stuckAfterSeconds stays ready), and stopping the process exits 1 (DLQ_UNDELIVERED), not ok.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { uniqueTopic } from '../helpers/kafka.ts'
import { startSluice, writePipeline } from '../helpers/cli.ts'
import { EVENT_SCHEMA, TABLE_DDL, badDataPipeline, mixedTopic } from '../bad-data/fixtures.ts'
import { freePort, get, metric, scrape, until } from './support.ts'
import type { StatusSnapshot } from '../../src/observability/status.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

test('stranded dead letters: sluice_outbox_pending, /status, /ready 503 after stuckAfterSeconds, exit 1 at stop', async (t) => {
  const mixed = await mixedTopic('ops-outbox')
  const deadLetters = mixed.expected.filter((e) => e !== 'table' && e !== 'LATE_DATA').length
  const deadPort = await freePort() // the DLQ "cluster": nothing listens
  const dlqTopic = uniqueTopic('dlq-ops')
  const pipelines: { file: string; pipelineId: string }[] = []
  for (const stuckAfterSeconds of [2, 3600]) {
    const s = await createTestSchema('opsob')
    schemas.push(s)
    await s.pool.query(TABLE_DDL)
    const { file } = await writePipeline(
      (dir: string) =>
        badDataPipeline(s, mixed.topic, dir, {
          dlq: 'kafka',
          strategy: 'drop',
          dlqTopic,
          dlqBootstrap: `127.0.0.1:${deadPort}`,
          trigger: 'processingtime=1 second',
          outbox: { drainTimeoutSeconds: 1, stuckAfterSeconds },
        }),
      { 'event.json': EVENT_SCHEMA },
    )
    pipelines.push({ file, pipelineId: `bad-${s.schema}` })
  }
  const [stuck, patient] = pipelines as [{ file: string; pipelineId: string }, { file: string; pipelineId: string }]
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const running = startSluice(['run', stuck.file, patient.file, '--json', '--http-port', String(port)])
  t.after(() => running.child.kill('SIGKILL'))
  try {
    await until(
      'sluice_outbox_pending counts the stranded dead letters',
      async () => {
        const { samples } = await scrape(base)
        return metric(samples, 'sluice_outbox_pending', stuck.pipelineId) === deadLetters && metric(samples, 'sluice_outbox_pending', patient.pipelineId) === deadLetters
      },
      30_000,
      running.output,
    )
    const snapshot = JSON.parse((await get(`${base}/status`)).body) as StatusSnapshot
    for (const q of snapshot.queries) {
      assert.equal(q.outbox?.pending, deadLetters, `/status of ${q.id}`)
      assert.deepEqual(q.outbox?.topics, { [dlqTopic]: deadLetters })
      assert.ok(q.outbox?.failingSince !== null && q.outbox?.failingSince !== undefined)
      assert.match(q.outbox?.lastError ?? '', /ECONNREFUSED/, 'the connection error is shown')
    }
    let ready = { status: 0, body: '' }
    await until('/ready answers 503 once the outbox is stuck', async () => (ready = await get(`${base}/ready`)).status === 503, 20_000, running.output)
    const checks = (JSON.parse(ready.body) as { checks: Record<string, boolean | string> }).checks
    assert.match(String(checks[`${stuck.pipelineId}.outbox`]), new RegExp(`^${deadLetters} record\\(s\\) waiting in the outbox, not published for \\d+ s: .*ECONNREFUSED`))
    assert.equal(checks[`${patient.pipelineId}.outbox`], true, 'stuckAfterSeconds 3600: not stuck yet')
    assert.equal(checks[`${stuck.pipelineId}.sink`], true)
    assert.equal(checks[`${stuck.pipelineId}.source`], true)
  } finally {
    running.child.kill('SIGTERM')
  }
  const result = await running.done
  assert.equal(result.code, 1, `a stop with stranded dead letters is not ok\n${result.stderr.slice(-3000)}`)
  const summary = JSON.parse(result.stdout) as { ok: boolean; queries: { error: { code: string; details: { pending: number } } | null }[] }
  assert.equal(summary.ok, false)
  for (const q of summary.queries) {
    assert.equal(q.error?.code, 'DLQ_UNDELIVERED')
    assert.equal(q.error?.details.pending, deadLetters)
  }
})
