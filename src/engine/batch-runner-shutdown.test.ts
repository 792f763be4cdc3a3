import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nullLogger } from '../api/component.ts'
import { SluiceError, isSluiceError } from '../errors.ts'
import { CircuitBreaker } from '../reliability/circuit-breaker.ts'
import { BatchRunner } from './batch-runner.ts'
import { EngineEvents } from './events.ts'
import { MemorySink, MemorySource, type MemoryTx } from './testkit.ts'

/** A runner whose retries wait 30 s: only a shutdown can end a wait quickly. */
function slowRetryRunner(): BatchRunner<MemoryTx> {
  return new BatchRunner({
    pipelineId: 'p',
    source: new MemorySource([]),
    commit: new MemorySink().parts(),
    exactlyOnce: true,
    checkpointLocation: null,
    retry: { strategy: 'fixed', maxAttempts: 100, initialDelaySeconds: 30, maxDelaySeconds: 30 },
    breaker: new CircuitBreaker({ enabled: false, failureThreshold: 100, resetTimeoutSeconds: 1 }),
    breakerEnabled: false,
    recordPath: { validator: null, transform: null, watermark: null, deleteKeys: null },
    lateStrategy: 'drop',
    failFast: false,
    events: new EngineEvents(),
    logger: nullLogger,
  })
}

const down = (): Promise<never> => Promise.reject(new SluiceError('SINK_UNAVAILABLE', 'connection refused'))

for (const batchId of [null, 4]) {
  test(`a shutdown during the retry wait (${batchId === null ? 'start-up' : 'a batch'}) ends it at once as SHUTDOWN, not the last failure`, async () => {
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 50)
    const started = Date.now()
    await assert.rejects(slowRetryRunner().withRetry(batchId, down, stop.signal), (err: unknown) => {
      assert.ok(isSluiceError(err, 'SHUTDOWN'), String(err))
      assert.match((err as Error).message, /stopped by shutdown while retrying: connection refused/)
      return true
    })
    assert.ok(Date.now() - started < 5_000, 'the 30 s wait was interrupted')
  })
}

test('a shutdown during a start-up connection attempt that hangs ends it as SHUTDOWN', async () => {
  const stop = new AbortController()
  setTimeout(() => stop.abort(), 50)
  const hangs = (): Promise<never> => new Promise(() => {})
  await assert.rejects(slowRetryRunner().withRetry(null, hangs, stop.signal), (err: unknown) => isSluiceError(err, 'SHUTDOWN'))
})

test('without a shutdown a non-retryable failure is still the failure', async () => {
  const bad = (): Promise<never> => Promise.reject(new SluiceError('CONFIG_INVALID', 'no'))
  await assert.rejects(slowRetryRunner().withRetry(null, bad, new AbortController().signal), (err: unknown) => isSluiceError(err, 'CONFIG_INVALID'))
})
