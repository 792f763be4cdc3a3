import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CircuitBreaker, type CircuitState, type Clock } from './circuit-breaker.ts'
import { SluiceError, isSluiceError } from '../errors.ts'

/** A clock whose time moves only when the test says so. */
class FakeClock implements Clock {
  t = 1_000_000
  #timers: Array<{ at: number; resolve: () => void }> = []
  now(): number {
    return this.t
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      this.#timers.push({ at: this.t + ms, resolve })
      signal?.addEventListener('abort', () => resolve(), { once: true })
    })
  }
  async advance(ms: number): Promise<void> {
    this.t += ms
    const due = this.#timers.filter((x) => x.at <= this.t)
    this.#timers = this.#timers.filter((x) => x.at > this.t)
    for (const x of due) x.resolve()
    await flush()
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}
const down = (): SluiceError => new SluiceError('SINK_UNAVAILABLE', 'connection refused')
const config = { enabled: true, failureThreshold: 3, resetTimeoutSeconds: 10 }

/** Tracks whether a promise has settled without awaiting it. */
function track(p: Promise<void>): { done: boolean; error: unknown } {
  const s: { done: boolean; error: unknown } = { done: false, error: undefined }
  p.then(
    () => (s.done = true),
    (e: unknown) => {
      s.done = true
      s.error = e
    },
  )
  return s
}

test('opens after failureThreshold consecutive failures; a success resets the count', async () => {
  const clock = new FakeClock()
  const cb = new CircuitBreaker(config, clock)
  const changes: Array<[CircuitState, CircuitState]> = []
  cb.onStateChange((s, p) => changes.push([s, p]))
  await cb.waitUntilAllowed()
  cb.recordFailure(down())
  cb.recordFailure(down())
  cb.recordSuccess()
  cb.recordFailure(down())
  cb.recordFailure(down())
  assert.equal(cb.state, 'closed')
  assert.equal(cb.recordFailure(down()), true)
  assert.equal(cb.state, 'open')
  assert.equal(cb.retryAt, clock.t + 10_000)
  assert.deepEqual(changes, [['open', 'closed']])
})

test('open waits the reset timeout, then grants one half-open trial; success closes', async () => {
  const clock = new FakeClock()
  const cb = new CircuitBreaker({ ...config, failureThreshold: 1 }, clock)
  const changes: CircuitState[] = []
  cb.onStateChange((s) => changes.push(s))
  cb.recordFailure(down())
  const first = track(cb.waitUntilAllowed())
  await clock.advance(9_999)
  assert.equal(first.done, false, 'still open before the reset timeout')
  await clock.advance(1)
  assert.equal(first.done, true)
  assert.equal(cb.state, 'half-open')

  const second = track(cb.waitUntilAllowed())
  await clock.advance(60_000)
  assert.equal(second.done, false, 'only one trial while half-open')
  cb.recordSuccess()
  await flush()
  assert.equal(second.done, true)
  assert.equal(cb.state, 'closed')
  assert.deepEqual(changes, ['open', 'half-open', 'closed'])
})

test('a failed half-open trial reopens the circuit and restarts the timer', async () => {
  const clock = new FakeClock()
  const cb = new CircuitBreaker(config, clock)
  for (let i = 0; i < 3; i++) cb.recordFailure(down())
  await clock.advance(10_000)
  await cb.waitUntilAllowed()
  assert.equal(cb.state, 'half-open')
  cb.recordFailure(down())
  assert.equal(cb.state, 'open')
  const next = track(cb.waitUntilAllowed())
  await clock.advance(9_000)
  assert.equal(next.done, false, 'timer restarted at the half-open failure')
  await clock.advance(1_000)
  assert.equal(next.done, true)
  assert.equal(cb.state, 'half-open')
})

test('non-retryable failures do not count', async () => {
  const clock = new FakeClock()
  const cb = new CircuitBreaker({ ...config, failureThreshold: 1 }, clock)
  assert.equal(cb.recordFailure(new SluiceError('RECORD_COLUMN', 'too long')), false)
  assert.equal(cb.recordFailure(new Error('bug')), false, 'foreign errors are INTERNAL, not retryable')
  assert.equal(cb.state, 'closed')
  assert.equal(cb.recordFailure(), true, 'no error given: counts')
  assert.equal(cb.state, 'open')
  await clock.advance(10_000)
  await cb.waitUntilAllowed()
  const waiting = track(cb.waitUntilAllowed())
  await flush()
  assert.equal(waiting.done, false)
  cb.recordFailure(new SluiceError('SINK_SCHEMA', 'no table'))
  await flush()
  assert.equal(waiting.done, true, 'the trial is released for another probe')
  assert.equal(cb.state, 'half-open')
})

test('abort while open rejects with SHUTDOWN', async () => {
  const clock = new FakeClock()
  const cb = new CircuitBreaker({ ...config, failureThreshold: 1 }, clock)
  cb.recordFailure(down())
  const c = new AbortController()
  const p = cb.waitUntilAllowed(c.signal).catch((e: unknown) => e)
  c.abort()
  const err = await p
  assert.ok(isSluiceError(err, 'SHUTDOWN'))
  assert.equal(cb.state, 'open')
})

test('a disabled breaker never opens', async () => {
  const cb = new CircuitBreaker({ ...config, enabled: false, failureThreshold: 1 }, new FakeClock())
  for (let i = 0; i < 5; i++) cb.recordFailure(down())
  assert.equal(cb.state, 'closed')
  await cb.waitUntilAllowed()
})

test('works with the real clock', async () => {
  const cb = new CircuitBreaker({ enabled: true, failureThreshold: 1, resetTimeoutSeconds: 0.03 })
  cb.recordFailure(down())
  const t0 = Date.now()
  await cb.waitUntilAllowed()
  assert.ok(Date.now() - t0 >= 25)
  assert.equal(cb.state, 'half-open')
})
