/**
 * Signal handling for `sluice run`. First SIGTERM/SIGINT: stop fetching and let the batch in
 * flight commit; if it has not finished within shutdownTimeoutSeconds, cancel it (its transaction
 * rolls back when the connection closes). Second signal: exit at once; PostgreSQL rolls back the
 * open transaction, so no batch is ever half-committed.
 */
import type { Logger } from '../api/component.ts'

export interface SignalControl {
  /** Aborted on the first signal: no new batch starts. */
  readonly stop: AbortSignal
  /** Aborted when the shutdown timeout expires: the batch in flight is cancelled. */
  readonly abort: AbortSignal
  dispose(): void
}

/** Installs SIGTERM/SIGINT handlers; the longest configured timeout wins. */
export function installSignals(timeoutsSeconds: readonly number[], logger: Logger): SignalControl {
  const stop = new AbortController()
  const abort = new AbortController()
  const timeoutMs = Math.max(1, ...timeoutsSeconds) * 1000
  let timer: NodeJS.Timeout | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting now (uncommitted work rolls back)')
      process.exit(signal === 'SIGINT' ? 130 : 143)
    }
    logger.info({ signal, timeoutMs }, 'shutting down: finishing the batch in flight')
    stop.abort()
    timer = setTimeout(() => {
      logger.warn({ timeoutMs }, 'shutdown timeout: cancelling the batch in flight (it rolls back)')
      abort.abort()
    }, timeoutMs)
    timer.unref()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  return {
    stop: stop.signal,
    abort: abort.signal,
    dispose() {
      if (timer) clearTimeout(timer)
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    },
  }
}
