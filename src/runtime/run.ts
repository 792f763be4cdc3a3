/**
 * `sluice run`: runs one or more pipelines in one process, each an independent query. Signals:
 * the first SIGTERM/SIGINT stops fetching and lets the batch in flight commit (or roll back when
 * it cannot finish within shutdownTimeoutSeconds); a second signal exits at once — safe, because
 * an unfinished batch is an uncommitted transaction. One failing query does not stop the others
 * unless its pipeline sets failFast.
 */
import type { Logger } from '../api/component.ts'
import type { PipelineConfig } from '../config/index.ts'
import { SluiceError, toSluiceError } from '../errors.ts'
import { EngineEvents } from '../engine/events.ts'
import type { QuerySummary } from '../engine/query.ts'
import { type AssembledPipeline, assemble, outboxSettings } from './assemble.ts'
import { type CleanupSchedule, scheduleCleanup } from './cleanup-schedule.ts'

/** A loaded pipeline file. */
export interface LoadedPipeline {
  readonly config: PipelineConfig
  readonly baseDir: string
  readonly file: string
}

/** The outcome of one query. */
export interface QueryOutcome {
  readonly pipelineId: string
  readonly file: string
  readonly ok: boolean
  readonly summary: QuerySummary | null
  readonly error: ReturnType<SluiceError['toJSON']> | null
}

export interface RunOptions {
  readonly logger: Logger
  readonly events?: EngineEvents
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Stops every query gracefully (between batches). */
  readonly stop: AbortSignal
  /** Cancels the batches in flight (their transactions roll back). */
  readonly abort: AbortSignal
  /** Called once all queries are assembled (the HTTP server starts here). */
  readonly onStarted?: (pipelines: readonly AssembledPipeline[]) => void | Promise<void>
}

/** Runs the pipelines to completion (bounded triggers) or until stopped; never throws. */
export async function runPipelines(pipelines: readonly LoadedPipeline[], options: RunOptions): Promise<QueryOutcome[]> {
  const events = options.events ?? new EngineEvents()
  const env = options.env ?? process.env
  const assembled: AssembledPipeline[] = []
  const outcomes: QueryOutcome[] = []
  for (const p of pipelines) {
    try {
      assembled.push(await assemble(p.config, p.baseDir, { logger: options.logger, events, env }))
    } catch (err) {
      const error = toSluiceError(err)
      options.logger.error({ pipelineId: p.config.pipelineId, code: error.code, err: error.message }, 'pipeline cannot start')
      outcomes.push({ pipelineId: p.config.pipelineId, file: p.file, ok: false, summary: null, error: error.toJSON() })
    }
  }
  if (outcomes.length > 0) {
    await Promise.allSettled(assembled.map((a) => a.close()))
    return outcomes
  }
  await options.onStarted?.(assembled)
  // failFast pipelines stop the whole process when they fail; others fail alone.
  const stopAll = new AbortController()
  const stop = AbortSignal.any([options.stop, stopAll.signal])
  // Past the shutdown timeout, closing the sink drops the connection: the open transaction rolls back.
  const onAbort = (): void => void Promise.allSettled(assembled.map((a) => a.close()))
  options.abort.addEventListener('abort', onAbort, { once: true })
  const results = await Promise.all(
    assembled.map(async (a, i): Promise<QueryOutcome> => {
      const file = pipelines[i]?.file ?? ''
      const pipelineId = a.config.pipelineId
      let cleanup: CleanupSchedule | null = null
      try {
        cleanup = scheduleCleanup(a, { logger: options.logger, events, env })
        const summary = await a.query.run(stop, options.abort)
        // Not ok while dead letters or late records wait in the outbox: publish them first.
        await a.outbox?.drain(outboxSettings(a.config).drainTimeoutSeconds * 1000, options.abort)
        return { pipelineId, file, ok: true, summary, error: null }
      } catch (err) {
        const error = toSluiceError(err)
        if (error.code !== 'DLQ_UNDELIVERED' && (options.abort.aborted || (error.code === 'SHUTDOWN' && stop.aborted))) {
          options.logger.warn({ pipelineId, code: error.code }, 'batch in flight cancelled by shutdown; it was rolled back')
          const undelivered = await outboxAfterShutdown(a, options.abort)
          if (undelivered) {
            options.logger.error({ pipelineId, code: undelivered.code, err: undelivered.message }, 'query stopped with dead letters not published')
            return { pipelineId, file, ok: false, summary: a.query.summary, error: undelivered.toJSON() }
          }
          return { pipelineId, file, ok: true, summary: a.query.summary, error: null }
        }
        events.emit('query.state', { pipelineId, state: 'failed', error: { code: error.code, message: error.message } })
        options.logger.error({ pipelineId, code: error.code, err: error.message, details: error.details }, 'query failed')
        if (a.config.errorHandlingConfig.failFast) stopAll.abort()
        return { pipelineId, file, ok: false, summary: a.query.summary, error: error.toJSON() }
      } finally {
        await cleanup?.stop()
        await a.close()
      }
    }),
  )
  return results
}

/**
 * After a shutdown cut a batch short: the outbox still has to be empty for `ok`. Drained while the
 * sink is open; past the shutdown timeout (sink closing) only the relay's last attempt counts.
 */
async function outboxAfterShutdown(a: AssembledPipeline, abort: AbortSignal): Promise<SluiceError | null> {
  const outbox = a.outbox
  if (!outbox) return null
  if (!abort.aborted) {
    try {
      await outbox.drain(outboxSettings(a.config).drainTimeoutSeconds * 1000, abort)
      return null
    } catch (err) {
      return toSluiceError(err)
    }
  }
  await outbox.close() // its last attempt, while the sink can still answer
  const { pending, lastError } = outbox.state
  if (pending === null || pending === 0) return null
  return new SluiceError('DLQ_UNDELIVERED', `${pending} dead-letter/late record(s) not published to Kafka before the shutdown timeout; they stay in sluice_dlq_outbox and the next run publishes them. Last error: ${lastError ?? 'none'}`, {
    details: { pending },
  })
}
