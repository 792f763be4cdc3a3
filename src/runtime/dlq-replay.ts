/**
 * `sluice dlq replay`: selected dead letters go through the pipeline's current record path
 * (dlq-replay-path.ts) into the target table with the run's own store and table writer, exactly
 * once: in each transaction the rows land and their dead letters are marked replayed, or the
 * transaction rolls back and nothing changed. A dead letter that still fails keeps its place in the
 * DLQ with its new error (code and reason), for the next try.
 *
 * A replay is its own transactions (`PostgresStore.transaction`): no batch id, no tracker row, no
 * source position and no watermark of the pipeline changes, so a running pipeline and a replay
 * never disturb each other's bookkeeping. Each transaction first takes a transaction-level
 * advisory lock of the pipeline's DLQ, so two replays of the same DLQ take turns, and each sees
 * the other's marks before it decides.
 *
 * The DLQ kinds keep their marks differently (dlq-replay-table.ts, dlq-replay-topic.ts).
 */
import type { ComponentContext } from '../api/component.ts'
import { nullLogger } from '../api/component.ts'
import type { SourceKind } from '../api/source.ts'
import { sinks, sourceFor } from '../components/registry.ts'
import type { PgBatchTx, PgSession, PgTableWriter, PostgresStore } from '../components/sinks/postgres/index.ts'
import { type PipelineConfig, resolveCredential } from '../config/index.ts'
import { failpoint } from '../failpoint.ts'
import type { RecordPathOptions } from '../engine/records.ts'
import { type DeadLetterEntry, matches } from './dlq-entry.ts'
import { type ReplayPlan, type ReplayVerdict, applyWrite, planReplay, refuseUnreplayable, replayPathOptions } from './dlq-replay-path.ts'
import { pipelineRoutes } from './routes.ts'
import { pipelineSchemas } from './schemas.ts'
import { valueEnvelope } from './record-path-config.ts'

type Env = Readonly<Record<string, string | undefined>>

/** Which dead letters to replay (all of them when empty). */
export interface ReplaySelection {
  readonly code?: string
  /** Epoch ms, inclusive. */
  readonly since?: number
  /** Epoch ms, exclusive. */
  readonly until?: number
  /** Ids as `sluice dlq list` prints them. */
  readonly ids?: readonly string[]
}

export interface ReplayOptions {
  readonly selection: ReplaySelection
  /** Print what each would become; write nothing (no transaction that writes, no table created). */
  readonly dryRun: boolean
  /** Dead letters per transaction. */
  readonly batchSize: number
  readonly env: Env
  /** Called with each transaction's results as it commits (or, dry, as it is planned). */
  readonly onResults?: (results: readonly ReplayResult[]) => void
}

/** One dead letter's outcome. */
export interface ReplayResult {
  readonly entry: DeadLetterEntry
  readonly verdict: ReplayVerdict
}

export interface ReplayReport {
  /** "table public.orders_dlq" / "kafka topic failed-orders". */
  readonly where: string
  readonly dryRun: boolean
  /** Replayed (or, dry, would be): rows landed, filtered, deleted, skipped tombstones. */
  readonly replayed: number
  /** Still failing, by their new code. */
  readonly failed: Record<string, number>
  /** Transactions committed (0 when dry). */
  readonly transactions: number
}

/** The open parts a DLQ kind replays with. */
export interface ReplayContext {
  readonly config: PipelineConfig
  readonly baseDir: string
  readonly options: ReplayOptions
  readonly store: PostgresStore
  /** Locks the pipeline's DLQ for this transaction (replays take turns). */
  lock(session: PgSession): Promise<void>
  /** Runs entries through the record path (nothing written). */
  plan(entries: readonly DeadLetterEntry[]): ReplayPlan
  /** Writes a plan's rows inside `tx`; rows the table refuses become failed verdicts. */
  write(tx: PgBatchTx, plan: ReplayPlan): Promise<void>
  /** True when the entry is among those selected. */
  selected(entry: DeadLetterEntry): boolean
  /** Failpoints of the replay transaction `n` (crash tests). */
  failpoint(name: 'replay-after-rows' | 'replay-before-commit' | 'replay-after-commit', n: number): Promise<void>
  /** Counts and passes on one transaction's (or dry chunk's) results. */
  report(plan: ReplayPlan): void
}

/** A DLQ kind: runs the replay and says where it read. */
export type ReplayBackend = (ctx: ReplayContext) => Promise<{ where: string; transactions: number }>

/** Opens the pipeline's sink as a run does, replays with `backend`, closes. */
export async function replayDeadLetters(config: PipelineConfig, baseDir: string, options: ReplayOptions, backend: ReplayBackend): Promise<ReplayReport> {
  refuseUnreplayable(config)
  const { validator, loadSchema } = await pipelineSchemas(config, baseDir)
  const ctx: ComponentContext = { pipelineId: config.pipelineId, baseDir, logger: nullLogger, env: options.env }
  // A dry run creates nothing: not the target table, not the bookkeeping tables.
  const load = options.dryRun ? { ...config.load, autoCreateTable: false } : config.load
  const { store, table } = sinks.postgresql.create(load, ctx, { resolveCredential: (id) => resolveCredential(id, options.env), envelope: valueEnvelope(config), ...(loadSchema ? { loadSchema } : {}) })
  const signal = AbortSignal.timeout(120_000)
  try {
    await store.open(signal)
    await table.open(signal)
    const columns = await table.targetColumns()
    const kind = sourceFor(config.extract).metadata
    const pathOptions = replayPathOptions(config, kind, validator, columns)
    let replayed = 0
    const failed: Record<string, number> = {}
    const parts = replayContext(config, baseDir, options, store, table, kind, pathOptions, columns, (plan) => {
      plan.verdicts.forEach((v) => {
        if (v.outcome === 'failed') failed[v.code] = (failed[v.code] ?? 0) + 1
        else replayed++
      })
      options.onResults?.(plan.entries.map((entry, i) => ({ entry, verdict: plan.verdicts[i] as ReplayVerdict })))
    })
    const { where, transactions } = await backend(parts)
    return { where, dryRun: options.dryRun, replayed, failed, transactions }
  } finally {
    await store.close()
  }
}

function replayContext(
  config: PipelineConfig,
  baseDir: string,
  options: ReplayOptions,
  store: PostgresStore,
  table: PgTableWriter,
  kind: SourceKind,
  pathOptions: RecordPathOptions,
  columns: readonly string[] | null,
  report: (plan: ReplayPlan) => void,
): ReplayContext {
  const dlq = pipelineRoutes(config).dlq
  const lockKey = `sluice dlq replay ${config.pipelineId} ${dlq.kind === 'table' ? dlq.table : dlq.topic}`
  const ids = options.selection.ids === undefined ? null : new Set(options.selection.ids)
  const filter = { limit: 0, includeReplayed: false, ...options.selection }
  return {
    config,
    baseDir,
    options,
    store,
    async lock(session) {
      await session.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey])
    },
    plan: (entries) => planReplay(pathOptions, kind, entries, columns),
    async write(tx, plan) {
      if (plan.table.rows.length === 0 && (plan.table.deletes?.length ?? 0) === 0) return
      applyWrite(plan, await table.write(tx, plan.table, true))
    },
    selected: (entry) => matches(entry, filter) && (ids === null || ids.has(entry.id)),
    failpoint: (name, n) => failpoint(name, n),
    report,
  }
}
