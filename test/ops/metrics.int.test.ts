/**
 * /metrics, /health and /status of a running `sluice run --http-port`: a continuous pipeline on a
 * real broker and a real PostgreSQL, scraped before any data, after a first wave and after a second
 * wave whose first commit reply is lost (a real duplicate batch). The seed's metrics must exist with
 * the pipeline_id label and move as data flows; promtool must accept the scrape.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, produce, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { startSluice } from '../helpers/cli.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, events } from '../e2e/fixtures.ts'
import { count, freePort, get, metric, opsPipeline, promtoolCheck, scrape, until, type Sample } from './support.ts'
import type { StatusSnapshot } from '../../src/observability/status.ts'

const SEED_METRICS = [
  'etl_batch_last_id',
  'etl_batch_last_processed_timestamp_seconds',
  'etl_batch_processing_lag_seconds',
  'etl_batch_rate_per_minute',
  'etl_batch_duplicates_total',
  'etl_batch_tracker_records_total',
]

function lagSum(samples: readonly Sample[], pipelineId: string): { partitions: number; total: number } {
  const lag = samples.filter((s) => s.name === 'sluice_consumer_lag' && s.labels.pipeline_id === pipelineId)
  return { partitions: lag.length, total: lag.reduce((a, s) => a + s.value, 0) }
}

describe('the HTTP endpoint during a run', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('seed metrics move as data flows, promtool accepts them, /health and /status answer', async (t) => {
    const topic = uniqueTopic('ops-metrics')
    await createTopic(topic, 3)
    const s = await createTestSchema('opsm')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    const proxy = await startTcpProxy()
    t.after(() => proxy.close())
    const port = await freePort()
    const { file, pipelineId } = await opsPipeline(s, topic, { trigger: 'continuous', maxOffsets: 500, pgPort: proxy.port })
    const base = `http://127.0.0.1:${port}`
    const running = startSluice(['run', file, '--http-port', String(port)])
    let readAfter: number | undefined
    t.after(() => running.child.kill('SIGKILL'))
    try {
      // Before any data: the endpoint is up, the query idles, counters exist at zero.
      await until('/health answers 200', async () => (await get(`${base}/health`)).status === 200)
      await until('the query is idle on the empty topic', async () => {
        const status = JSON.parse((await get(`${base}/status`)).body) as StatusSnapshot
        return status.queries[0]?.state === 'idle'
      })
      const before = (await scrape(base)).samples
      assert.equal(metric(before, 'etl_batch_duplicates_total', pipelineId), 0)
      assert.equal(metric(before, 'etl_batch_rate_per_minute', pipelineId), 0)
      assert.equal(metric(before, 'etl_batch_tracker_records_total', pipelineId), 0, 'tracker counted at start: no rows yet')
      assert.equal(metric(before, 'etl_batch_last_id', pipelineId), undefined, 'no batch committed yet')
      assert.equal(metric(before, 'sluice_query_up', pipelineId), 1)

      // First wave.
      const firstAt = Date.now()
      await produce(topic, events(2000).map((m, i) => ({ ...m, partition: i % 3 })))
      await until('2000 rows loaded', async () => (await count(s)) === 2000)
      await until('consumer lag reported as 0 on 3 partitions', async () => {
        const lag = lagSum((await scrape(base)).samples, pipelineId)
        return lag.partitions === 3 && lag.total === 0
      })
      const first = await scrape(base)
      const m1 = (name: string): number | undefined => metric(first.samples, name, pipelineId)
      for (const name of SEED_METRICS) assert.notEqual(m1(name), undefined, `${name}{pipeline_id="${pipelineId}"} is exported`)
      const trackerRows = await assertTrackerContiguous(s, pipelineId, 2000)
      assert.ok(trackerRows >= 4, `maxOffsetsPerTrigger 500 makes at least 4 batches of 2000 records, got ${trackerRows}`)
      assert.equal(m1('etl_batch_last_id'), trackerRows - 1, 'etl_batch_last_id is the newest tracker row')
      const committedAt = m1('etl_batch_last_processed_timestamp_seconds') ?? 0
      assert.ok(committedAt * 1000 >= firstAt - 1000 && committedAt * 1000 <= Date.now() + 1000, `last processed timestamp ${committedAt} is recent`)
      const lag1 = m1('etl_batch_processing_lag_seconds') ?? -1
      assert.ok(lag1 >= 0 && lag1 < 120, `processing lag ${lag1} s: the records were produced moments before`)
      assert.ok((m1('etl_batch_rate_per_minute') ?? 0) >= 4, 'every batch of the last minute is counted')
      assert.equal(m1('etl_batch_duplicates_total'), 0, 'no duplicate in a clean run')
      const counted = m1('etl_batch_tracker_records_total') ?? 0
      assert.ok(counted >= 1 && counted <= trackerRows, `tracker size ${counted} was counted after the first commit (table has ${trackerRows})`)
      assert.equal(metric(first.samples, 'sluice_records_total', pipelineId, { destination: 'read' }), 2000)
      assert.equal(metric(first.samples, 'sluice_records_total', pipelineId, { destination: 'table' }), 2000)
      assert.equal(metric(first.samples, 'sluice_circuit_state', pipelineId), 0)
      assert.ok(first.samples.some((x) => x.name === 'process_cpu_seconds_total'), 'prom-client process metrics are exported')
      // Several workers of one pipeline scrape apart: every series names its worker (host:pid).
      const workers = new Set(first.samples.map((x) => x.labels.worker))
      assert.equal(workers.size, 1, `one worker label on every series: ${[...workers].join(', ')}`)
      assert.match(String([...workers][0]), /^.+:\d+$/)
      for (const x of first.samples.filter((x) => x.name.startsWith('etl_batch_'))) {
        assert.equal(x.labels.pipeline_id, pipelineId, `${x.name} carries the pipeline_id label`)
      }
      for (const name of SEED_METRICS) assert.match(first.text, new RegExp(`^# HELP ${name} \\S`, 'm'), `${name} has HELP text`)

      const check = promtoolCheck(first.text)
      if (check === null) t.diagnostic('promtool not on PATH (apt-get install prometheus): `promtool check metrics` skipped')
      else assert.equal(check.status, 0, `promtool check metrics:\n${check.output}`)

      // /status: the query, its last batch, its partitions and their lag.
      const status = JSON.parse((await get(`${base}/status`)).body) as StatusSnapshot
      const q = status.queries[0]
      assert.ok(q)
      assert.equal(q.id, pipelineId)
      assert.equal(q.name, 'e2e')
      assert.equal(q.lastBatch?.id, trackerRows - 1)
      assert.ok((q.lastBatch?.records ?? 0) > 0)
      assert.equal(q.batchesCommitted, trackerRows)
      assert.deepEqual(Object.keys(q.partitions).sort(), [0, 1, 2].map((p) => `${topic}/${p}`).sort())
      assert.equal(Object.values(q.partitions).reduce((a, p) => a + Number(p.position), 0), 2000, 'positions add up to the records read')
      assert.ok(Object.values(q.partitions).every((p) => p.lag === 0), 'lag 0 after catching up')
      assert.equal(q.lastError, null)

      // Second wave; the reply to its first COMMIT is lost: the retry finds the batch committed.
      const sprung = proxy.loseNextCommitReply()
      await produce(topic, events(1000, 2000).map((m, i) => ({ ...m, partition: i % 3 })))
      await sprung
      await until('3000 rows loaded', async () => (await count(s)) === 3000)
      await until('the duplicate batch is counted', async () => metric((await scrape(base)).samples, 'etl_batch_duplicates_total', pipelineId) === 1)
      await until('consumer lag back to 0', async () => lagSum((await scrape(base)).samples, pipelineId).total === 0)
      const second = (await scrape(base)).samples
      const m2 = (name: string): number | undefined => metric(second, name, pipelineId)
      const rows2 = await assertTrackerContiguous(s, pipelineId, 3000)
      assert.equal(m2('etl_batch_last_id'), rows2 - 1, 'etl_batch_last_id moved to the newest batch')
      assert.ok((m2('etl_batch_last_id') ?? 0) > (m1('etl_batch_last_id') ?? 0))
      assert.ok((m2('etl_batch_last_processed_timestamp_seconds') ?? 0) > committedAt, 'last processed timestamp moved')
      assert.ok((m2('etl_batch_rate_per_minute') ?? 0) >= 1)
      readAfter = metric(second, 'sluice_records_total', pipelineId, { destination: 'read' })
      assert.ok((metric(second, 'sluice_batch_failures_total', pipelineId, { code: 'SINK_UNAVAILABLE' }) ?? 0) >= 1, 'the lost reply counted as a failed attempt')
      assert.ok(proxy.accepted > 0, 'the pipeline reached PostgreSQL through the proxy')
      assert.equal((await get(`${base}/health`)).status, 200)
      const ready = await get(`${base}/ready`)
      assert.equal(ready.status, 200, ready.body)
    } finally {
      running.child.kill('SIGTERM')
    }
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    await assertExactlyOnce(s, 3000)
    await assertTrackerContiguous(s, pipelineId, 3000)
    // The skipped batch's records were committed by the attempt whose reply was lost, not counted again.
    const skipped = result.stdout
      .split('\n')
      .filter((l) => l.includes('batch already processed, skipped'))
      .map((l) => (JSON.parse(l) as { batchId: number }).batchId)
    assert.equal(skipped.length, 1, 'exactly one batch was recognised as already committed')
    const { rows } = await s.pool.query<{ n: string }>('SELECT record_count AS n FROM batch_tracker WHERE batch_id = $1', [skipped[0]])
    assert.equal(readAfter, 3000 - Number(rows[0]?.n), 'records read count every committed batch once; the duplicate is not counted again')
  })
})

