/**
 * Circuit breaker (errorHandlingConfig.circuitBreakerConfig). After `failureThreshold` consecutive
 * failed attempts the circuit opens: the engine stops planning and fetching batches (so Kafka is not
 * drained into memory while the database is down), waits `resetTimeoutSeconds`, then lets exactly one
 * half-open trial batch through. Its success closes the circuit; its failure opens it again and the
 * reset timer restarts.
 *
 * Only retryable failures count. A non-retryable error (bad data, a missing table) means the other
 * system answered: it is not an availability problem, so it neither trips nor resets the breaker.
 *
 * Intended wiring (one breaker per query): before each attempt `await breaker.waitUntilAllowed(signal)`,
 * then `recordSuccess()` after a commit or `recordFailure(err)` after a failed attempt.
 */
import { SluiceError, toSluiceError } from '../errors.ts'
import type { CircuitState } from '../engine/events.ts'
import { abortableSleep } from './retry.ts'

export type { CircuitState }

export interface CircuitBreakerConfig {
  enabled: boolean
  failureThreshold: number
  resetTimeoutSeconds: number
}

/** Time source, injectable so tests run without real waiting. */
export interface Clock {
  now(): number
  /** Resolves after `ms` or as soon as `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/** Wall clock and real timers. */
export const systemClock: Clock = { now: () => Date.now(), sleep: abortableSleep }

export type StateListener = (state: CircuitState, previous: CircuitState) => void

export class CircuitBreaker {
  readonly #config: CircuitBreakerConfig
  readonly #clock: Clock
  #state: CircuitState = 'closed'
  #failures = 0
  #openedAt = 0
  /** In half-open, whether the single trial has been handed out. */
  #trialGranted = false
  #listeners: StateListener[] = []
  /** Wake-ups for callers waiting on a state change. */
  #waiters: Array<() => void> = []

  constructor(config: CircuitBreakerConfig, clock: Clock = systemClock) {
    this.#config = config
    this.#clock = clock
  }

  /** Current state (always `closed` when the breaker is disabled). */
  get state(): CircuitState {
    return this.#state
  }

  /** Consecutive counted failures since the last success. */
  get consecutiveFailures(): number {
    return this.#failures
  }

  /** Epoch ms at which an open circuit lets a trial through, or null when not open. */
  get retryAt(): number | null {
    return this.#state === 'open' ? this.#openedAt + this.#resetMs() : null
  }

  /** Subscribes to state transitions; returns a function removing the listener. */
  onStateChange(listener: StateListener): () => void {
    this.#listeners.push(listener)
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
    }
  }

  /**
   * Resolves when an attempt may run: at once when closed; when open, after the reset timeout
   * (then half-open, one trial); in half-open with the trial taken, when the trial settles.
   * Rejects with SHUTDOWN when `signal` aborts while waiting.
   */
  async waitUntilAllowed(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (!this.#config.enabled || this.#state === 'closed') return
      if (signal?.aborted) throw new SluiceError('SHUTDOWN', 'stopped while waiting for the circuit breaker')
      if (this.#state === 'open') {
        const remaining = this.#openedAt + this.#resetMs() - this.#clock.now()
        if (remaining > 0) {
          await Promise.race([this.#clock.sleep(remaining, signal), this.#nextChange(signal)])
          continue
        }
        this.#setState('half-open')
        this.#trialGranted = true
        return
      }
      if (!this.#trialGranted) {
        this.#trialGranted = true
        return
      }
      await this.#nextChange(signal)
    }
  }

  /** An attempt succeeded: the circuit closes and the failure count resets. */
  recordSuccess(): void {
    if (!this.#config.enabled) return
    this.#failures = 0
    this.#trialGranted = false
    this.#setState('closed')
  }

  /**
   * An attempt failed. Counts only when `err` is retryable (or omitted); returns whether it counted.
   * In half-open a counted failure reopens the circuit and restarts the reset timer.
   */
  recordFailure(err?: unknown): boolean {
    if (!this.#config.enabled) return false
    if (err !== undefined && !toSluiceError(err).retryable) {
      // The system answered; free the half-open trial so the next attempt can probe again.
      if (this.#state === 'half-open') {
        this.#trialGranted = false
        this.#wake()
      }
      return false
    }
    this.#failures++
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= Math.max(1, this.#config.failureThreshold))) {
      this.#openedAt = this.#clock.now()
      this.#trialGranted = false
      this.#setState('open')
    }
    return true
  }

  #resetMs(): number {
    return Math.max(0, this.#config.resetTimeoutSeconds) * 1000
  }

  #setState(next: CircuitState): void {
    const previous = this.#state
    if (previous === next) return
    this.#state = next
    this.#wake()
    for (const listener of this.#listeners) {
      try {
        listener(next, previous)
      } catch {
        // A listener (log line, metric) must not break the breaker.
      }
    }
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  /** Resolves on the next state change (or trial release), or when `signal` aborts. */
  #nextChange(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve()
        return
      }
      const done = (): void => {
        signal?.removeEventListener('abort', done)
        resolve()
      }
      this.#waiters.push(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }
}
