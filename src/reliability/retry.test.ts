import { test } from 'node:test'
import assert from 'node:assert/strict'
import { abortableSleep, backoffDelay, retry, type RetryConfig } from './retry.ts'
import { SluiceError, isSluiceError } from '../errors.ts'

const exp: RetryConfig = { strategy: 'exponential', maxAttempts: 5, initialDelaySeconds: 1, maxDelaySeconds: 10 }

test('exponential backoff doubles, is capped, and jitters within bounds', () => {
  // random 1 = the top of the range, random 0 = the bottom.
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(exp, a, () => 1)), [1000, 2000, 4000, 8000, 10000, 10000])
  assert.deepEqual([1, 2, 3].map((a) => backoffDelay(exp, a, () => 0)), [500, 1000, 2000])
  assert.deepEqual([1, 2, 3].map((a) => backoffDelay(exp, a, () => 0, 'full')), [0, 0, 0])
  assert.equal(backoffDelay(exp, 3, () => 0.5, 'full'), 2000)
  assert.equal(backoffDelay(exp, 2000, () => 1), 10000, 'no overflow for huge attempt numbers')
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(exp, 3)
    assert.ok(d >= 2000 && d <= 4000, `equal jitter delay ${d} within [2000, 4000]`)
  }
})

test('linear, fixed and none strategies', () => {
  const linear: RetryConfig = { ...exp, strategy: 'linear', initialDelaySeconds: 3 }
  assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(linear, a)), [3000, 6000, 9000, 10000])
  const fixed: RetryConfig = { ...exp, strategy: 'fixed', initialDelaySeconds: 2 }
  assert.deepEqual([1, 5].map((a) => backoffDelay(fixed, a)), [2000, 2000])
  assert.equal(backoffDelay({ ...fixed, maxDelaySeconds: 1 }, 1), 1000, 'fixed is capped too')
  assert.equal(backoffDelay({ ...exp, strategy: 'none' }, 3), 0)
})

const transient = (): SluiceError => new SluiceError('SINK_UNAVAILABLE', 'connection lost')
const noSleep = async (): Promise<void> => {}

test('retries retryable errors, then succeeds', async () => {
  const calls: number[] = []
  const retries: Array<[number, number, string]> = []
  const result = await retry(
    async (attempt) => {
      calls.push(attempt)
      if (attempt < 3) throw transient()
      return 'ok'
    },
    { config: exp, sleep: noSleep, random: () => 1, onRetry: (a, d, e) => retries.push([a, d, e.code]) },
  )
  assert.equal(result, 'ok')
  assert.deepEqual(calls, [1, 2, 3])
  assert.deepEqual(retries, [
    [1, 1000, 'SINK_UNAVAILABLE'],
    [2, 2000, 'SINK_UNAVAILABLE'],
  ])
})

test('exhausting attempts throws RETRIES_EXHAUSTED with the last error as cause', async () => {
  let calls = 0
  const err = await retry(
    async () => {
      calls++
      throw new SluiceError('SINK_CONFLICT', `deadlock ${calls}`)
    },
    { config: { ...exp, maxAttempts: 3 }, sleep: noSleep },
  ).catch((e: unknown) => e)
  assert.equal(calls, 3)
  assert.ok(isSluiceError(err, 'RETRIES_EXHAUSTED'))
  assert.equal(err.retryable, false)
  assert.ok(isSluiceError(err.cause, 'SINK_CONFLICT'))
  assert.equal(err.cause.message, 'deadlock 3')
  assert.equal(err.details.attempts, 3)
})

test('non-retryable and foreign errors are thrown at once', async () => {
  let calls = 0
  const dataErr = await retry(
    async () => {
      calls++
      throw new SluiceError('RECORD_COLUMN', 'value too long')
    },
    { config: exp, sleep: noSleep },
  ).catch((e: unknown) => e)
  assert.equal(calls, 1)
  assert.ok(isSluiceError(dataErr, 'RECORD_COLUMN'))

  const foreign = await retry(
    async () => {
      calls++
      throw new TypeError('boom')
    },
    { config: exp, sleep: noSleep },
  ).catch((e: unknown) => e)
  assert.equal(calls, 2)
  assert.ok(isSluiceError(foreign, 'INTERNAL'))
  assert.equal(foreign.retryable, false)
  assert.ok(foreign.cause instanceof TypeError)
})

test('retryable flag overrides the catalog, and strategy none makes one attempt', async () => {
  let calls = 0
  const permanent = await retry(
    async () => {
      calls++
      throw new SluiceError('SINK_UNAVAILABLE', 'auth failed', { retryable: false })
    },
    { config: exp, sleep: noSleep },
  ).catch((e: unknown) => e)
  assert.equal(calls, 1)
  assert.ok(isSluiceError(permanent, 'SINK_UNAVAILABLE'))

  calls = 0
  const none = await retry(
    async () => {
      calls++
      throw transient()
    },
    { config: { ...exp, strategy: 'none' }, sleep: noSleep },
  ).catch((e: unknown) => e)
  assert.equal(calls, 1)
  assert.ok(isSluiceError(none, 'RETRIES_EXHAUSTED'))
})

test('abort during the backoff wait ends it and throws the last error', async () => {
  const controller = new AbortController()
  const started = Date.now()
  let calls = 0
  const pending = retry(
    async () => {
      calls++
      throw transient()
    },
    { config: { ...exp, initialDelaySeconds: 60, maxDelaySeconds: 60 }, signal: controller.signal },
  ).catch((e: unknown) => e)
  setTimeout(() => controller.abort(), 20)
  const err = await pending
  assert.ok(Date.now() - started < 5000, 'the 60 s wait was cut short')
  assert.equal(calls, 1)
  assert.ok(isSluiceError(err, 'SINK_UNAVAILABLE'))
})

test('abortableSleep resolves on time and on abort', async () => {
  const t0 = Date.now()
  await abortableSleep(15)
  assert.ok(Date.now() - t0 >= 10)
  const c = new AbortController()
  c.abort()
  await abortableSleep(60_000, c.signal)
})
