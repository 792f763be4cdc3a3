/**
 * Replaying a PostgreSQL DLQ table. The marks live on the dead letter's own row, in nullable
 * columns added to the table on the first replay (ALTER TABLE ... ADD COLUMN IF NOT EXISTS; a run
 * writes only the columns it knows, so the two never disturb each other):
 *
 *   "sluice.replayed.at"      when it landed (NULL: not replayed)
 *   "sluice.replayed.as"      row, filtered, deleted, skipped
 *   "sluice.replay.code"      the error of the last failed try
 *   "sluice.replay.reason"
 *   "sluice.replay.tried.at"  the last try
 *   "sluice.replay.attempts"
 *
 * Each transaction locks the DLQ (advisory), takes the next `batchSize` selected rows not yet
 * replayed with SELECT ... FOR UPDATE (in the table's listing order, after the last row taken, so a
 * still-failing row is tried once per replay), writes the rows into the target table and marks
 * the dead letters in the same transaction. The row of a still-failing dead letter is kept with
 * its original error and gains the new one.
 */
import type { PgSession } from '../components/sinks/postgres/index.ts'
import { quoteIdent } from '../components/sinks/postgres/sql/quote.ts'
import type { ReplayVerdict } from './dlq-replay-path.ts'
import type { ReplayBackend, ReplayContext } from './dlq-replay.ts'
import { type DlqRow, DLQ_FILTER, DLQ_ORDER, REPLAY_COLUMNS, dlqColumns, dlqTableName, hasReplayColumns, tableRowEntry } from './dlq-table.ts'
import { parseTableId } from './dlq-entry.ts'

/** Adds the replay columns to `quoted` when they are missing. */
export async function addReplayColumns(session: Pick<PgSession, 'query'>, quoted: string): Promise<void> {
  const adds = Object.entries(REPLAY_COLUMNS).map(([name, type]) => `ADD COLUMN IF NOT EXISTS ${quoteIdent(name)} ${type}`)
  await session.query(`ALTER TABLE ${quoted} ${adds.join(', ')}`)
}

interface Candidate extends DlqRow {
  tid: string
  at_key: string
}

/** The next rows to replay: selected, not replayed, after the keyset `after`. */
async function nextRows(session: PgSession, quoted: string, ctx: ReplayContext, after: Candidate | null, mode: { lock: boolean; replayColumns: boolean }): Promise<Candidate[]> {
  const s = ctx.options.selection
  const ids = (s.ids ?? []).map(parseTableId).filter((x) => x !== null)
  const params: unknown[] = [
    ctx.config.pipelineId,
    s.code ?? null,
    s.since === undefined ? null : new Date(s.since).toISOString(),
    s.until === undefined ? null : new Date(s.until).toISOString(),
    s.ids === undefined ? null : ids.map((i) => i.topic),
    ids.map((i) => i.partition),
    ids.map((i) => i.offset),
    ids.map((i) => i.batchId),
    after?.at_key ?? null,
    after?.batch_id ?? null,
    after?.topic ?? null,
    after?.partition ?? null,
    after?.offset ?? null,
    ctx.options.batchSize,
  ]
  const sql = `SELECT ctid::text AS tid, "sluice.failed.at"::text AS at_key, ${dlqColumns(mode.replayColumns)} FROM ${quoted}
    WHERE ${DLQ_FILTER}${mode.replayColumns ? ' AND "sluice.replayed.at" IS NULL' : ''}
      AND ($5::text[] IS NULL OR ("sluice.source.topic", "sluice.source.partition", "sluice.source.offset", "sluice.batch.id")
        IN (SELECT * FROM unnest($5::text[], $6::int[], $7::bigint[], $8::bigint[])))
      AND ($9::timestamptz IS NULL OR ("sluice.failed.at", "sluice.batch.id", "sluice.source.topic", "sluice.source.partition", "sluice.source.offset")
        > ($9::timestamptz, $10::bigint, $11::text, $12::int, $13::bigint))
    ORDER BY ${DLQ_ORDER} LIMIT $14${mode.lock ? ' FOR UPDATE' : ''}`
  return (await session.query<Candidate>(sql, params)).rows
}

/** Marks the rows of one transaction: replayed ones with how, failed ones with their new error. */
async function mark(session: PgSession, quoted: string, rows: readonly Candidate[], verdicts: readonly ReplayVerdict[], now: string): Promise<void> {
  const done: [string, string][] = []
  const failed: [string, string, string][] = []
  rows.forEach((r, i) => {
    const v = verdicts[i] as ReplayVerdict
    if (v.outcome === 'failed') failed.push([r.tid, v.code, v.reason])
    else done.push([r.tid, v.outcome])
  })
  const tried = `"sluice.replay.tried.at" = $1, "sluice.replay.attempts" = coalesce(t."sluice.replay.attempts", 0) + 1`
  if (done.length > 0) {
    await session.query(
      `UPDATE ${quoted} AS t SET "sluice.replayed.at" = $1, "sluice.replayed.as" = u.how, ${tried}
         FROM unnest($2::tid[], $3::text[]) AS u(tid, how) WHERE t.ctid = u.tid`,
      [now, done.map((d) => d[0]), done.map((d) => d[1])],
    )
  }
  if (failed.length > 0) {
    await session.query(
      `UPDATE ${quoted} AS t SET "sluice.replay.code" = u.code, "sluice.replay.reason" = u.reason, ${tried}
         FROM unnest($2::tid[], $3::text[], $4::text[]) AS u(tid, code, reason) WHERE t.ctid = u.tid`,
      [now, failed.map((f) => f[0]), failed.map((f) => f[1]), failed.map((f) => f[2])],
    )
  }
}

/** Replays the pipeline's dead letters from its DLQ table `table`. */
export function replayFromTable(table: string): ReplayBackend {
  return async (ctx) => {
    const driver = ctx.store.database().driver
    const { quoted, display } = dlqTableName(ctx.store.database().schema, table)
    const where = `table ${display}`
    const exists = await driver.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [quoted])
    if (exists.rows[0]?.t == null) return { where, transactions: 0 }
    if (ctx.options.dryRun) return { where, transactions: await dryRun(ctx, quoted) }
    // ALTER TABLE locks the table even when the columns are there: only the first replay needs it.
    if (!(await hasReplayColumns(driver, quoted))) await addReplayColumns(driver, quoted)
    let after: Candidate | null = null
    let n = 0
    for (;;) {
      const taken: Candidate[] = await ctx.store.transaction(`replaying dead letters from ${display}`, async (tx) => {
        await ctx.lock(tx.session)
        const rows = await nextRows(tx.session, quoted, ctx, after, { lock: true, replayColumns: true })
        if (rows.length === 0) return rows
        const plan = ctx.plan(rows.map(tableRowEntry))
        await ctx.write(tx, plan)
        await ctx.failpoint('replay-after-rows', n)
        await mark(tx.session, quoted, rows, plan.verdicts, new Date().toISOString())
        await ctx.failpoint('replay-before-commit', n)
        tx.onCommit(() => ctx.report(plan))
        return rows
      })
      if (taken.length === 0) return { where, transactions: n }
      await ctx.failpoint('replay-after-commit', n)
      n++
      after = taken.at(-1) as Candidate
    }
  }
}

/** The dry run: the same selection in a READ ONLY transaction, through the record path only. */
async function dryRun(ctx: ReplayContext, quoted: string): Promise<number> {
  await ctx.store.database().driver.transaction(async (session) => {
    await session.query('SET TRANSACTION READ ONLY')
    const replayColumns = await hasReplayColumns(session, quoted)
    let after: Candidate | null = null
    for (;;) {
      const rows: Candidate[] = await nextRows(session, quoted, ctx, after, { lock: false, replayColumns })
      if (rows.length === 0) return
      ctx.report(ctx.plan(rows.map(tableRowEntry)))
      after = rows.at(-1) as Candidate
    }
  })
  return 0
}
