/**
 * The batch_tracker cleanup job scheduled inside `sluice run` (monitoring.cleanupIntervalHours):
 * every interval, the rows of the pipeline older than the retention are deleted, never the newest
 * (recovery needs it). The same deletion as `sluice cleanup`; a failure is logged and retried at the
 * next interval, it never stops the query.
 */
import type { Logger } from '../api/component.ts'
import { SluiceError, toSluiceError } from '../errors.ts'
import type { EngineEvents } from '../engine/events.ts'
import type { AssembledPipeline } from './assemble.ts'

/** setTimeout's longest delay (about 24.8 days); longer intervals are waited in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** The retention in days: `flag`, else BATCH_RETENTION_DAYS (as the seed's cleanup job), else 30. */
export function retentionDays(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): number {
  const raw = flag ?? env.BATCH_RETENTION_DAYS ?? '30'
  const days = Number(raw)
  if (!Number.isInteger(days) || days < 0) {
    throw new SluiceError('CONFIG_INVALID', `retention days must be a whole number >= 0, got "${raw}"`)
  }
  return days
}

/** A running schedule. */
export interface CleanupSchedule {
  /** Cancels the timer and waits for a cleanup in flight. */
  stop(): Promise<void>
}

const NONE: CleanupSchedule = { stop: async () => {} }

/**
 * Starts the cleanup timer of one pipeline when its config asks for one (a no-op schedule otherwise).
 * Throws CONFIG_INVALID when BATCH_RETENTION_DAYS is not a whole number.
 */
export function scheduleCleanup(
  pipeline: AssembledPipeline,
  deps: { readonly logger: Logger; readonly events: EngineEvents; readonly env: Readonly<Record<string, string | undefined>> },
): CleanupSchedule {
  const hours = pipeline.config.monitoring.cleanupIntervalHours
  const store = pipeline.store
  if (hours === undefined) return NONE
  const days = retentionDays(undefined, deps.env)
  const pipelineId = pipeline.config.pipelineId
  const log = deps.logger.child({ pipelineId, job: 'cleanup' })
  const intervalMs = Math.max(1, Math.round(hours * 3_600_000))
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | null = null

  const cleanup = async (): Promise<void> => {
    try {
      const deleted = await store.cleanup(pipelineId, days)
      log.info({ deleted, retentionDays: days }, `cleaned up ${deleted} old batch_tracker rows`)
      const rows = await store.trackerSize(pipelineId)
      deps.events.emit('tracker.size', { pipelineId, rows })
    } catch (err) {
      const error = toSluiceError(err)
      log.warn({ code: error.code, err: error.message }, 'batch_tracker cleanup failed; retried at the next interval')
    }
  }
  const arm = (dueAt: number): void => {
    if (stopped) return
    timer = setTimeout(() => {
      if (Date.now() < dueAt) return arm(dueAt)
      running = cleanup().finally(() => {
        running = null
        arm(Date.now() + intervalMs)
      })
    }, Math.min(Math.max(0, dueAt - Date.now()), MAX_TIMER_MS))
    timer.unref()
  }
  log.info({ intervalHours: hours, retentionDays: days }, 'batch_tracker cleanup scheduled')
  // The first run waits one interval: the store opens when the query starts, after this.
  arm(Date.now() + intervalMs)
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
