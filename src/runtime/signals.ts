/**
 * Signal handling for `sluice run`, on top of the process-wide shutdown request (shutdown.ts,
 * installed by bin/sluice.js before anything else is loaded). First SIGTERM/SIGINT/SIGHUP: stop
 * fetching and let the batch in flight commit; if it has not finished within
 * shutdownTimeoutSeconds, cancel it (its transaction rolls back when the connection closes).
 * Second signal: exit at once; PostgreSQL rolls back the open transaction, so no batch is ever
 * half-committed. A signal received while Sluice was still loading counts as the first. Should the
 * process still be alive EXIT_GRACE_MS after the cancellation (a component that does not let go),
 * it exits with code 1.
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

/** How long the process may take to end after the batch in flight was cancelled, before it exits anyway. */
export const EXIT_GRACE_MS = 15_000

/** Last resort: exits the process (tests pass their own). */
export interface ExitOptions {
  readonly graceMs?: number
  readonly exit?: (code: number) => void
}

/** Takes over SIGTERM/SIGINT/SIGHUP for a run; the longest configured timeout wins. */
export function installSignals(timeoutsSeconds: readonly number[], logger: Logger, last: ExitOptions = {}): SignalControl {
  installShutdownHandlers({ graceful: true })
  const abort = new AbortController()
  const timeoutMs = Math.max(1, ...timeoutsSeconds) * 1000
  let timer: NodeJS.Timeout | undefined
  // Cancelling closes every connection, so the process ends by itself; should a component still
  // hold it (a bug), it must not outlive the signal: the open transaction rolls back either way.
  let lastResort: NodeJS.Timeout | undefined
  abort.signal.addEventListener('abort', () => {
    const graceMs = last.graceMs ?? EXIT_GRACE_MS
    lastResort = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown did not end after the batch in flight was cancelled; exiting (uncommitted work rolls back)')
      ;(last.exit ?? process.exit)(1)
    }, graceMs).unref()
  })
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
      if (lastResort) clearTimeout(lastResort)
      unsubscribe()
    },
  }
}
