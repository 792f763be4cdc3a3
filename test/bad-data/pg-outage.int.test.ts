/**
 * PostgreSQL unavailable for a while (a TCP proxy in front of the server is cut, then restored):
 * the pipeline retries the same batch with backoff, opens the circuit, recovers by itself once the
 * database is back, and loses or doubles nothing.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { startSluice, waitForOutput, writePipeline } from '../helpers/cli.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'
import { assertExactlyOnce, assertTrackerContiguous, EVENTS_DDL, kafkaPipeline, topicWithEvents } from '../e2e/fixtures.ts'

const COUNT = 3000
const schemas: TestSchema[] = []
const proxies: TcpProxy[] = []
after(async () => {
  await Promise.all(proxies.map((p) => p.close()))
  await Promise.all(schemas.map((s) => s.drop()))
})

describe('PostgreSQL outage', () => {
  test('retries with backoff, opens the circuit, recovers by itself, loses nothing', async () => {
    const s = await createTestSchema('outage')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    const topic = await topicWithEvents(COUNT, 2)
    const proxy = await startTcpProxy()
    proxies.push(proxy)
    const { file } = await writePipeline((dir: string) => {
      const config = kafkaPipeline(s, topic, dir, { maxOffsets: 200 }) as { load: { connectionParams: Record<string, unknown> }; errorHandlingConfig: Record<string, unknown> }
      config.load.connectionParams.host = proxy.host
      config.load.connectionParams.port = proxy.port
      config.errorHandlingConfig = {
        retryConfig: { strategy: 'exponential', maxAttempts: 3, initialDelaySeconds: 0.2, maxDelaySeconds: 1 },
        circuitBreakerConfig: { enabled: true, failureThreshold: 3, resetTimeoutSeconds: 1 },
      }
      return config
    })
    // Slow batches down so the outage starts in the middle of the run.
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'after-commit-file=sleep:200' })
    await waitForOutput(running, (o) => (o.match(/batch committed/g) ?? []).length >= 2)
    await proxy.cut()
    await waitForOutput(running, (o) => o.includes('retrying the same batch'), 30_000)
    await waitForOutput(running, (o) => o.includes('circuit breaker open'), 30_000)
    // Stay down through a few half-open trials.
    await new Promise((r) => setTimeout(r, 3000))
    const committedDuringOutage = (running.output().match(/batch committed/g) ?? []).length
    await proxy.restore()
    const result = await running.done
    const out = result.stdout + result.stderr
    assert.equal(result.code, 0, out.slice(-3000))
    assert.ok((out.match(/batch committed/g) ?? []).length > committedDuringOutage, 'batches commit again after the outage')
    assert.match(out, /circuit breaker closed/)
    assert.ok(proxy.accepted > 0, 'the pipeline went through the proxy')
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, `e2e-${s.schema}`, COUNT)
  })
})
