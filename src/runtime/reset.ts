/**
 * `sluice reset`: moves a pipeline's stored source positions to a target, in one transaction of the
 * sink database (components/sinks/postgres/position-reset.ts), with the source deciding where each
 * partition goes (Source.resetTo: Kafka by ListOffsets, files by their done marks). Refused while a
 * worker runs (the run lock, or the embedded database's lock file), for a source that cannot be
 * reset, and for an at-least-once pipeline, whose positions live in its checkpoint folder instead.
 */
import { hostname } from 'node:os'
import { type Logger, nullLogger } from '../api/component.ts'
import { type PositionMoves, describeTarget, type ResetTarget } from '../api/reset.ts'
import { sourceFor } from '../components/registry.ts'
import { classifyError, embeddedInUse, resetPositions, type ResetOutcome } from '../components/sinks/postgres/index.ts'
import type { PipelineConfig } from '../config/index.ts'
import { SluiceError } from '../errors.ts'
import { effectiveStreaming } from './assemble.ts'
import { openDatabase, type PipelineDatabase } from './database.ts'

export interface ResetOptions {
  readonly target: ResetTarget
  readonly dryRun: boolean
  readonly keepWatermark: boolean
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly logger?: Logger
  /** How long the source may take to answer (ListOffsets). */
  readonly timeoutMs?: number
}

/** The outcome, with where it happened. */
export interface ResetReport extends ResetOutcome {
  readonly target: string
  readonly database: string
  readonly dryRun: boolean
}

/**
 * An aggregate step holds what it folded (totals in the table, or open windows in the window
 * state): a partition moved back would fold its records a second time, so such a reset is refused.
 * Moving forward (skipping records) is allowed. A null move forgets the partition (it restarts at
 * startingOffsets): refused too, unless nothing was stored for it.
 */
export function refuseRecount(config: PipelineConfig, stored: Readonly<Record<string, string>>, moves: PositionMoves): PositionMoves {
  if (!config.transform.some((s) => s.type === 'aggregate')) return moves
  for (const [partition, to] of Object.entries(moves)) {
    const from = stored[partition]
    if (from === undefined) continue
    const back = to === null || !/^\d+$/.test(to) || !/^\d+$/.test(from) ? to !== from : BigInt(to) < BigInt(from)
    if (!back) continue
    throw new SluiceError(
      'RESET_REFUSED',
      `pipeline ${config.pipelineId} ends with an aggregate step: moving ${partition} back from ${from} to ${to ?? 'its starting offset'} would fold its records into the totals or windows a second time; reset only forward, or start the aggregate again (a new pipelineId and an empty table)`,
      { details: { pipelineId: config.pipelineId, partition, from, to } },
    )
  }
  return moves
}

/** Who runs the reset, for the history row (never a secret): the login name, host and pid. */
export function resetBy(env: Readonly<Record<string, string | undefined>> = process.env): string {
  // The environment, not os.userInfo(): that throws for a uid without a passwd entry (containers).
  const user = env.USER ?? env.LOGNAME ?? `uid ${process.getuid?.() ?? 'unknown'}`
  return `${user}@${hostname()} pid ${process.pid}`
}

/** Opens the sink database; the embedded one, open in another process, means the pipeline may be running. */
async function open(config: PipelineConfig, baseDir: string, env: Readonly<Record<string, string | undefined>>, logger: Logger): Promise<PipelineDatabase> {
  try {
    return await openDatabase(config, baseDir, env, logger)
  } catch (err) {
    if (!embeddedInUse(err)) throw err
    throw new SluiceError('PIPELINE_RUNNING', `${err.message}; a sluice run of ${config.pipelineId} may be using it: stop it, then reset again`, { details: err.details, cause: err })
  }
}

/** Resets one pipeline (or, with dryRun, says what a reset would do). */
export async function resetPipeline(config: PipelineConfig, baseDir: string, options: ResetOptions): Promise<ResetReport> {
  const env = options.env ?? process.env
  const logger = options.logger ?? nullLogger
  const streaming = effectiveStreaming(config, baseDir)
  if (!streaming.enableIdempotence) {
    throw new SluiceError(
      'RESET_REFUSED',
      `pipeline ${config.pipelineId} runs at-least-once (enableIdempotence: false): its positions are in the checkpoint folder ${streaming.checkpointLocation}, not in the database; delete that folder to start again from startingOffsets`,
      { details: { pipelineId: config.pipelineId } },
    )
  }
  const source = sourceFor(config.extract).create(config.extract, { pipelineId: config.pipelineId, baseDir, logger, env, longRunning: false })
  try {
    const resetTo = source.resetTo?.bind(source)
    if (resetTo === undefined) {
      throw new SluiceError('RESET_REFUSED', `the ${config.extract.sourceType} source cannot be reset (its positions follow from its own settings); kafka and file pipelines can`, {
        details: { sourceType: config.extract.sourceType },
      })
    }
    const db = await open(config, baseDir, env, logger)
    try {
      const signal = AbortSignal.timeout(options.timeoutMs ?? 120_000)
      const outcome = await resetPositions(
        db.tracker,
        {
          pipelineId: config.pipelineId,
          target: describeTarget(options.target),
          dryRun: options.dryRun,
          keepWatermark: options.keepWatermark,
          resetBy: resetBy(env),
          checkpointLocation: streaming.checkpointLocation,
          createTables: config.load.autoCreateTable,
        },
        async (stored) => refuseRecount(config, stored, await resetTo(options.target, stored, signal)),
      ).catch((err: unknown) => {
        throw classifyError(err, `resetting ${config.pipelineId}`, db.secrets)
      })
      if (outcome.applied) logger.info({ pipelineId: config.pipelineId, batchId: outcome.batchId, moved: outcome.partitions.filter((p) => p.changed).length }, 'positions reset')
      return { ...outcome, target: describeTarget(options.target), database: db.display, dryRun: options.dryRun }
    } finally {
      await db.close()
    }
  } finally {
    await source.close().catch(() => {})
  }
}
