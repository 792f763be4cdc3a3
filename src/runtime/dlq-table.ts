/**
 * Reads a PostgreSQL DLQ table (columns: reliability/dlq-record.ts) for `sluice dlq list|show`, in
 * a READ ONLY transaction: the command can never change a dead letter, whatever goes wrong. Only
 * the pipeline's own rows are read (a DLQ table may be shared), oldest first.
 */
import { splitQualified, quoteName } from '../components/sinks/postgres/sql/quote.ts'
import type { PgSession } from '../components/sinks/postgres/driver.ts'
import { decodeHeaders } from '../reliability/dlq-record.ts'
import { type DeadLetterEntry, type DlqFilter, type DlqListing, parseTableId, tableEntryId } from './dlq-entry.ts'
import type { PipelineDatabase } from './database.ts'

const COLUMNS = `key, value, headers::text AS headers, "sluice.error.code" AS code, "sluice.error.reason" AS reason,
  "sluice.pipeline.id" AS pipeline_id, "sluice.batch.id"::text AS batch_id, "sluice.source.topic" AS topic,
  "sluice.source.partition" AS partition, "sluice.source.offset"::text AS "offset", "sluice.failed.at" AS failed_at`

const FILTER = `"sluice.pipeline.id" = $1 AND ($2::text IS NULL OR "sluice.error.code" = $2)
  AND ($3::timestamptz IS NULL OR "sluice.failed.at" >= $3) AND ($4::timestamptz IS NULL OR "sluice.failed.at" < $4)`

const ORDER = `"sluice.failed.at", "sluice.batch.id", "sluice.source.topic", "sluice.source.partition", "sluice.source.offset"`

interface DlqRow {
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
}

/** The table's schema-qualified, quoted name (a bare name is in the pipeline's schema, as the sink writes it). */
function tableName(db: PipelineDatabase, table: string): { quoted: string; display: string } {
  const { schema = db.schema, name } = splitQualified(table)
  return { quoted: quoteName(schema, name), display: `${schema}.${name}` }
}

/** Runs `fn` in a READ ONLY transaction; null when the table does not exist (no dead letter yet). */
async function readOnly<T>(db: PipelineDatabase, quoted: string, fn: (tx: PgSession) => Promise<T>): Promise<T | null> {
  return db.driver.transaction(async (tx) => {
    await tx.query('SET TRANSACTION READ ONLY')
    const exists = await tx.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [quoted])
    if (exists.rows[0]?.t == null) return null
    return fn(tx)
  })
}

/** The pipeline's dead letters in `table` that match `filter`. */
export async function listTableDeadLetters(db: PipelineDatabase, pipelineId: string, table: string, filter: DlqFilter): Promise<DlqListing> {
  const { quoted, display } = tableName(db, table)
  const params = [pipelineId, filter.code ?? null, iso(filter.since), iso(filter.until)]
  const found = await readOnly(db, quoted, async (tx) => {
    const rows = await tx.query<DlqRow>(`SELECT ${COLUMNS} FROM ${quoted} WHERE ${FILTER} ORDER BY ${ORDER} LIMIT $5`, [...params, filter.limit + 1])
    const codes = await tx.query<{ code: string; n: string }>(`SELECT "sluice.error.code" AS code, count(*)::text AS n FROM ${quoted} WHERE ${FILTER} GROUP BY 1 ORDER BY 1`, params)
    return { rows: rows.rows, codes: codes.rows }
  })
  const rows = found?.rows ?? []
  return {
    where: `table ${display}`,
    entries: rows.slice(0, filter.limit).map(toEntry),
    more: rows.length > filter.limit,
    byCode: Object.fromEntries((found?.codes ?? []).map((c) => [c.code, Number(c.n)])),
  }
}

/** One dead letter by id, or null. */
export async function showTableDeadLetter(db: PipelineDatabase, pipelineId: string, table: string, id: string): Promise<DeadLetterEntry | null> {
  const at = parseTableId(id)
  if (at === null) return null
  const { quoted } = tableName(db, table)
  const rows = await readOnly(db, quoted, (tx) =>
    tx.query<DlqRow>(
      `SELECT ${COLUMNS} FROM ${quoted} WHERE "sluice.pipeline.id" = $1 AND "sluice.source.topic" = $2 AND "sluice.source.partition" = $3
         AND "sluice.source.offset" = $4::bigint AND "sluice.batch.id" = $5::bigint ORDER BY ${ORDER} LIMIT 1`,
      [pipelineId, at.topic, at.partition, at.offset, at.batchId],
    ),
  )
  const row = rows?.rows[0]
  return row === undefined ? null : toEntry(row)
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString()
}

function toEntry(r: DlqRow): DeadLetterEntry {
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
  }
}
