/**
 * /ready follows the sink: a continuous pipeline reaches PostgreSQL through a TCP proxy; cutting the
 * proxy (as if the server stopped) turns /ready to 503 while /health stays 200; restoring it turns
 * /ready back to 200, and the records produced meanwhile land exactly once.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, produce, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { startSluice } from '../helpers/cli.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, events } from '../e2e/fixtures.ts'
import { count, freePort, get, opsPipeline, until } from './support.ts'
import type { StatusSnapshot } from '../../src/observability/status.ts'

describe('readiness', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('/ready is 503 while PostgreSQL is unreachable and 200 after; nothing is lost or doubled', async (t) => {
    const topic = uniqueTopic('ops-ready')
    await createTopic(topic, 2)
    await produce(topic, events(1000).map((m, i) => ({ ...m, partition: i % 2 })))
    const s = await createTestSchema('opsr')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    const proxy = await startTcpProxy()
    t.after(() => proxy.close())
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const { file, pipelineId } = await opsPipeline(s, topic, { trigger: 'continuous', maxOffsets: 300, pgPort: proxy.port })
    const running = startSluice(['run', file, '--http-port', String(port)])
    t.after(() => running.child.kill('SIGKILL'))
    try {
      await until('1000 rows loaded', async () => (await count(s)) === 1000)
      await until('/ready answers 200', async () => (await get(`${base}/ready`)).status === 200)

      await proxy.cut()
      let notReady = { status: 0, body: '' }
      await until('/ready answers 503', async () => (notReady = await get(`${base}/ready`)).status === 503, 15_000)
      const checks = (JSON.parse(notReady.body) as { checks: Record<string, boolean | string> }).checks
      assert.notEqual(checks[`${pipelineId}.sink`], true, `the sink check fails: ${notReady.body}`)
      assert.equal(checks[`${pipelineId}.source`], true, 'the broker is still reachable')
      assert.equal((await get(`${base}/health`)).status, 200, 'liveness does not depend on the database')

      // Records arrive while the database is away: batches fail and are retried, never skipped.
      await produce(topic, events(1000, 1000).map((m, i) => ({ ...m, partition: i % 2 })))
      await until('a failed batch attempt is reported in /status', async () => {
        const q = (JSON.parse((await get(`${base}/status`)).body) as StatusSnapshot).queries[0]
        return q?.lastError?.code === 'SINK_UNAVAILABLE'
      })
      assert.equal((await get(`${base}/ready`)).status, 503, 'still not ready while cut')
      assert.equal(await count(s), 1000)

      await proxy.restore()
      await until('/ready answers 200 again', async () => (await get(`${base}/ready`)).status === 200, 30_000)
      await until('2000 rows loaded after the restore', async () => (await count(s)) === 2000, 60_000)
    } finally {
      running.child.kill('SIGTERM')
    }
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    await assertExactlyOnce(s, 2000)
    await assertTrackerContiguous(s, pipelineId, 2000)
  })
})
