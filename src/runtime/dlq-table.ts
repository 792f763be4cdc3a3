/**
 * Reads a PostgreSQL DLQ table (columns: reliability/dlq-record.ts) for `sluice dlq list|show`, in
 * a READ ONLY transaction: the command can never change a dead letter, whatever goes wrong. Only
 * the pipeline's own rows are read (a DLQ table may be shared), oldest first. Dead letters that
 * `sluice dlq replay` landed are hidden unless asked for (their replay columns: REPLAY_COLUMNS).
 */
import { splitQualified, quoteName } from '../components/sinks/postgres/sql/quote.ts'
import type { PgSession } from '../components/sinks/postgres/driver.ts'
import { decodeHeaders } from '../reliability/dlq-record.ts'
import { type DeadLetterEntry, type DlqFilter, type DlqListing, parseTableId, tableEntryId } from './dlq-entry.ts'
import type { PipelineDatabase } from './database.ts'

/**
 * The replay columns `sluice dlq replay` adds to a DLQ table (dlq-replay-table.ts), nullable: the
 * time it landed and how, the error of the last failed try, the last try and the number of tries.
 */
export const REPLAY_COLUMNS = {
  'sluice.replayed.at': 'timestamptz',
  'sluice.replayed.as': 'text',
  'sluice.replay.code': 'text',
  'sluice.replay.reason': 'text',
  'sluice.replay.tried.at': 'timestamptz',
  'sluice.replay.attempts': 'integer',
} as const

const BASE_COLUMNS = `key, value, headers::text AS headers, "sluice.error.code" AS code, "sluice.error.reason" AS reason,
  "sluice.pipeline.id" AS pipeline_id, "sluice.batch.id"::text AS batch_id, "sluice.source.topic" AS topic,
  "sluice.source.partition" AS partition, "sluice.source.offset"::text AS "offset", "sluice.failed.at" AS failed_at`

/** The columns a DLQ row is read with; without the replay columns (never replayed) their values are NULL. */
export function dlqColumns(replayColumns: boolean): string {
  const replay = replayColumns
    ? `"sluice.replayed.at" AS replayed_at, "sluice.replayed.as" AS replayed_as, "sluice.replay.code" AS replay_code,
       "sluice.replay.reason" AS replay_reason, "sluice.replay.tried.at" AS tried_at, "sluice.replay.attempts" AS attempts`
    : 'NULL::timestamptz AS replayed_at, NULL::text AS replayed_as, NULL::text AS replay_code, NULL::text AS replay_reason, NULL::timestamptz AS tried_at, NULL::integer AS attempts'
  return `${BASE_COLUMNS}, ${replay}`
}

/** The pipeline, code and time filter ($1-$4). */
export const DLQ_FILTER = `"sluice.pipeline.id" = $1 AND ($2::text IS NULL OR "sluice.error.code" = $2)
  AND ($3::timestamptz IS NULL OR "sluice.failed.at" >= $3) AND ($4::timestamptz IS NULL OR "sluice.failed.at" < $4)`

/** Oldest first; the same order keys a replay walks the table by. */
export const DLQ_ORDER = `"sluice.failed.at", "sluice.batch.id", "sluice.source.topic", "sluice.source.partition", "sluice.source.offset"`

/** A DLQ row as read with dlqColumns. */
export interface DlqRow {
  key: Uint8Array | null
  value: Uint8Array | null
  headers: string | null
  code: string
  reason: string
  pipeline_id: string
  batch_id: string
  topic: string
  partition: number
  offset: string
  failed_at: Date | string
  replayed_at: Date | string | null
  replayed_as: string | null
  replay_code: string | null
  replay_reason: string | null
  tried_at: Date | string | null
  attempts: number | null
}

/** The table's schema-qualified, quoted name (a bare name is in the pipeline's schema, as the sink writes it). */
export function dlqTableName(schema: string, table: string): { quoted: string; display: string } {
  const { schema: s = schema, name } = splitQualified(table)
  return { quoted: quoteName(s, name), display: `${s}.${name}` }
}

/** True when the table has the replay columns (some replay ran on it). */
export async function hasReplayColumns(session: Pick<PgSession, 'query'>, quoted: string): Promise<boolean> {
  const r = await session.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'sluice.replayed.at' AND NOT attisdropped`, [quoted])
  return r.rows[0]?.n === '1'
}

/** Runs `fn` in a READ ONLY transaction with whether the table has the replay columns; null when the table does not exist (no dead letter yet). */
async function readOnly<T>(db: PipelineDatabase, quoted: string, fn: (tx: PgSession, replayColumns: boolean) => Promise<T>): Promise<T | null> {
  return db.driver.transaction(async (tx) => {
    await tx.query('SET TRANSACTION READ ONLY')
    const exists = await tx.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [quoted])
    if (exists.rows[0]?.t == null) return null
    return fn(tx, await hasReplayColumns(tx, quoted))
  })
}

/** The pipeline's dead letters in `table` that match `filter`. */
export async function listTableDeadLetters(db: PipelineDatabase, pipelineId: string, table: string, filter: DlqFilter): Promise<DlqListing> {
  const { quoted, display } = dlqTableName(db.schema, table)
  const params = [pipelineId, filter.code ?? null, iso(filter.since), iso(filter.until)]
  const found = await readOnly(db, quoted, async (tx, replayColumns) => {
    const where = `${DLQ_FILTER}${replayColumns && !filter.includeReplayed ? ' AND "sluice.replayed.at" IS NULL' : ''}`
    const rows = await tx.query<DlqRow>(`SELECT ${dlqColumns(replayColumns)} FROM ${quoted} WHERE ${where} ORDER BY ${DLQ_ORDER} LIMIT $5`, [...params, filter.limit + 1])
    const codes = await tx.query<{ code: string; n: string }>(`SELECT "sluice.error.code" AS code, count(*)::text AS n FROM ${quoted} WHERE ${where} GROUP BY 1 ORDER BY 1`, params)
    return { rows: rows.rows, codes: codes.rows }
  })
  const rows = found?.rows ?? []
  return {
    where: `table ${display}`,
    entries: rows.slice(0, filter.limit).map(tableRowEntry),
    more: rows.length > filter.limit,
    byCode: Object.fromEntries((found?.codes ?? []).map((c) => [c.code, Number(c.n)])),
  }
}

/** One dead letter by id, or null. */
export async function showTableDeadLetter(db: PipelineDatabase, pipelineId: string, table: string, id: string): Promise<DeadLetterEntry | null> {
  const at = parseTableId(id)
  if (at === null) return null
  const { quoted } = dlqTableName(db.schema, table)
  const rows = await readOnly(db, quoted, (tx, replayColumns) =>
    tx.query<DlqRow>(
      `SELECT ${dlqColumns(replayColumns)} FROM ${quoted} WHERE "sluice.pipeline.id" = $1 AND "sluice.source.topic" = $2 AND "sluice.source.partition" = $3
         AND "sluice.source.offset" = $4::bigint AND "sluice.batch.id" = $5::bigint ORDER BY ${DLQ_ORDER} LIMIT 1`,
      [pipelineId, at.topic, at.partition, at.offset, at.batchId],
    ),
  )
  const row = rows?.rows[0]
  return row === undefined ? null : tableRowEntry(row)
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString()
}

/** A DLQ row as an entry, with its replay state when it was tried. */
export function tableRowEntry(r: DlqRow): DeadLetterEntry {
  const partition = Number(r.partition)
  return {
    id: tableEntryId(r.topic, partition, r.offset, r.batch_id),
    code: r.code,
    reason: r.reason,
    pipelineId: r.pipeline_id,
    batchId: r.batch_id,
    failedAt: new Date(r.failed_at).toISOString(),
    source: { topic: r.topic, partition, offset: r.offset },
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    headers: r.headers === null ? [] : decodeHeaders(r.headers),
    ...(r.tried_at === null
      ? {}
      : {
          replay: {
            replayedAt: r.replayed_at === null ? null : new Date(r.replayed_at).toISOString(),
            replayedAs: r.replayed_as,
            code: r.replay_code,
            reason: r.replay_reason,
            triedAt: new Date(r.tried_at).toISOString(),
            attempts: Number(r.attempts ?? 0),
          },
        }),
  }
}
