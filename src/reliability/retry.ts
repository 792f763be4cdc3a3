/**
 * Retries of transient failures (errorHandlingConfig.retryConfig). The decision to retry reads only
 * `SluiceError.retryable`: a lost connection, a serialization failure or an unavailable broker is
 * retried; a data error never is (it belongs in the DLQ, and re-running would fail the same way).
 * The caller re-runs the same batch (same records, same batch id) on each attempt.
 */
import { SluiceError, toSluiceError } from '../errors.ts'

/** Mirrors the config schema's retryConfig (kept local so this module has no config dependency). */
export interface RetryConfig {
  strategy: 'exponential' | 'linear' | 'fixed' | 'none'
  maxAttempts: number
  initialDelaySeconds: number
  maxDelaySeconds: number
}

/**
 * Exponential jitter flavour. `equal` (the default) waits at least half the exponential step, so a
 * database that needs a few seconds to come back is not hammered; `full` spreads more widely.
 */
export type Jitter = 'equal' | 'full'

/**
 * Delay in ms to wait after failed attempt `attempt` (1-based) before the next one. Every strategy
 * is capped at maxDelaySeconds; `none` never waits (and `retry` makes a single attempt with it).
 */
export function backoffDelay(
  config: RetryConfig,
  attempt: number,
  random: () => number = Math.random,
  jitter: Jitter = 'equal',
): number {
  const initialMs = Math.max(0, config.initialDelaySeconds) * 1000
  const capMs = Math.max(0, config.maxDelaySeconds) * 1000
  const n = Math.max(1, Math.floor(attempt))
  switch (config.strategy) {
    case 'none':
      return 0
    case 'fixed':
      return Math.min(initialMs, capMs)
    case 'linear':
      return Math.min(initialMs * n, capMs)
    case 'exponential': {
      // 2 ** (n - 1) overflows to Infinity for huge n; Math.min caps it either way.
      const step = Math.min(initialMs * 2 ** (n - 1), capMs)
      const r = Math.min(Math.max(random(), 0), 1)
      return Math.round(jitter === 'full' ? step * r : step / 2 + (step / 2) * r)
    }
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects: the caller decides what abort means). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve()
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export interface RetryOptions {
  config: RetryConfig
  /** Aborting ends a pending backoff wait; the last error is then thrown as is. */
  signal?: AbortSignal
  /** Called before each backoff wait (log line, metrics event). */
  onRetry?(attempt: number, delayMs: number, err: SluiceError): void
  /** Injectable for tests; must resolve early when the signal aborts. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>
  random?(): number
}

/**
 * Runs `fn` until it succeeds, retrying retryable SluiceErrors with backoff, up to maxAttempts
 * attempts in total. Non-retryable errors are thrown at once (anything that is not a SluiceError
 * becomes INTERNAL); running out of attempts throws RETRIES_EXHAUSTED with the last error as cause.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { config, signal, onRetry } = options
  const sleep = options.sleep ?? abortableSleep
  const maxAttempts = config.strategy === 'none' ? 1 : Math.max(1, Math.floor(config.maxAttempts))
  for (let attempt = 1; ; attempt++) {
    let error: SluiceError
    try {
      return await fn(attempt)
    } catch (err) {
      error = toSluiceError(err)
    }
    if (!error.retryable || signal?.aborted) throw error
    if (attempt >= maxAttempts) {
      throw new SluiceError('RETRIES_EXHAUSTED', `gave up after ${attempt} attempt(s): ${error.code}: ${error.message}`, {
        cause: error,
        details: { attempts: attempt, lastCode: error.code, ...error.details },
      })
    }
    const delayMs = backoffDelay(config, attempt, options.random)
    onRetry?.(attempt, delayMs, error)
    await sleep(delayMs, signal)
    if (signal?.aborted) throw error
  }
}
