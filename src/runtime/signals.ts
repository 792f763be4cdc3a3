/**
 * Signal handling for `sluice run`, on top of the process-wide shutdown request (shutdown.ts,
 * installed by bin/sluice.js before anything else is loaded). First SIGTERM/SIGINT/SIGHUP: stop
 * fetching and let the batch in flight commit; if it has not finished within
 * shutdownTimeoutSeconds, cancel it (its transaction rolls back when the connection closes).
 * Second signal: exit at once; PostgreSQL rolls back the open transaction, so no batch is ever
 * half-committed. A signal received while Sluice was still loading counts as the first.
 */
import type { Logger } from '../api/component.ts'
import { installShutdownHandlers, onShutdown, shutdownRequested } from './shutdown.ts'

export interface SignalControl {
  /** Aborted on the first signal: no new batch starts. */
  readonly stop: AbortSignal
  /** Aborted when the shutdown timeout expires: the batch in flight is cancelled. */
  readonly abort: AbortSignal
  dispose(): void
}

/** Takes over SIGTERM/SIGINT/SIGHUP for a run; the longest configured timeout wins. */
export function installSignals(timeoutsSeconds: readonly number[], logger: Logger): SignalControl {
  installShutdownHandlers({ graceful: true })
  const abort = new AbortController()
  const timeoutMs = Math.max(1, ...timeoutsSeconds) * 1000
  let timer: NodeJS.Timeout | undefined
  const unsubscribe = onShutdown((signal, count, reason) => {
    if (count > 1) {
      logger.warn({ signal }, 'second signal: exiting now (uncommitted work rolls back)')
      return
    }
    logger.info({ signal, reason, timeoutMs }, 'shutting down: finishing the batch in flight')
    timer = setTimeout(() => {
      logger.warn({ timeoutMs }, 'shutdown timeout: cancelling the batch in flight (it rolls back)')
      abort.abort()
    }, timeoutMs)
    timer.unref()
  })
  return {
    stop: shutdownRequested,
    abort: abort.signal,
    dispose() {
      if (timer) clearTimeout(timer)
      unsubscribe()
    },
  }
}
