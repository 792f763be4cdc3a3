/**
 * Writes a batch's rows into the target table inside the caller's transaction, by write mode:
 * - append: COPY into the table;
 * - overwrite: DELETE every row, then COPY (same transaction, so readers see old or new, never empty);
 * - upsert: COPY into a temp stage with each row's ordinal, then
 *   `INSERT … SELECT DISTINCT ON (keys) … ORDER BY keys, ordinal DESC ON CONFLICT (keys) DO UPDATE`,
 *   so the last record of a key in the batch wins; tombstone deletes follow, by key.
 *   With merge rules (the aggregate step), the stage is grouped by the keys instead and each
 *   aggregate column is combined with the stored one (`aggregateMergeSql`).
 *
 * Bad rows. Each attempt runs under a SAVEPOINT. When the server refuses data (SQLSTATE class 22/23),
 * the attempt is rolled back and its range split: around the line the COPY error names when it names
 * one (the rows before it are re-sent, the row itself is tried alone), else in `batchsize` pieces, then
 * halves. A single refused row becomes a RejectedRow (RECORD_COLUMN); good rows still land. Without a
 * reject handler the first refused row fails the batch instead.
 */
import type { Row, RowValues } from '../../../api/record.ts'
import type { MergeRule, RejectedRow } from '../../../api/writer.ts'
import { SluiceError } from '../../../errors.ts'
import { copyLine, errorColumn, errorConstraint, isDataError, rejectReason, sqlState } from './classify-error.ts'
import { refuseMisfits, fitRules } from './column-fit.ts'
import { copyColumns, type TableInfo } from './columns.ts'
import { encodeTableRows, fieldValue, type ChunkLimits } from './copy-encode.ts'
import type { PgSession } from './driver.ts'
import { quoteIdent } from './sql/quote.ts'
import { sqlText } from './sql/sql-files.ts'

/** How rows are written. */
export interface LoadMode {
  readonly writeMode: 'append' | 'overwrite' | 'upsert'
  /** Upsert key columns (actual column names). */
  readonly keys: readonly string[]
  readonly limits: ChunkLimits
  /** Upsert only: column -> merge rule (the aggregate step); see SinkBatch.merge. */
  readonly merge?: Readonly<Record<string, MergeRule>>
}

/** Rows written and rows refused. */
export interface RowsOutcome {
  readonly written: number
  readonly rejected: RejectedRow[]
}

const STAGE = quoteIdent('sluice_stage')
const ORD = quoteIdent('__sluice_ord')
const SAVEPOINT = quoteIdent('sluice_rows')

/** The RECORD_COLUMN error for one refused row. */
export function rowError(err: unknown, row: Row | undefined, table: TableInfo): SluiceError {
  const details: Record<string, unknown> = { table: `${table.schema}.${table.name}` }
  const state = sqlState(err)
  if (state !== undefined) details.sqlstate = state
  const column = errorColumn(err)
  if (column !== undefined) details.column = column
  const constraint = errorConstraint(err)
  if (constraint !== undefined) details.constraint = constraint
  if (row !== undefined) {
    details.partition = row.source.partition
    details.offset = row.source.offset
  }
  return new SluiceError('RECORD_COLUMN', rejectReason(err), { cause: err, details })
}

function mergeSql(table: TableInfo, cols: readonly string[], keys: readonly string[]): string {
  const list = cols.map(quoteIdent).join(', ')
  const keyList = keys.map(quoteIdent).join(', ')
  const updates = cols.filter((c) => !keys.includes(c)).map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`)
  const action = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`
  return `INSERT INTO ${table.quoted} (${list}) SELECT DISTINCT ON (${keyList}) ${list} FROM ${STAGE} ORDER BY ${keyList}, ${ORD} DESC ON CONFLICT (${keyList}) ${action}`
}

/**
 * The aggregate step's merge: partial rows of one key in the stage are combined (GROUP BY), then
 * merged into the stored row. count/sum add (a sum stays null only when both sides are), min/max
 * keep the extreme (LEAST/GREATEST ignore nulls), avg X is recomputed from the merged `X__sum` and
 * `X__count`; other columns take the last row's value. Every SET expression reads the old row (t).
 */
function aggregateMergeSql(table: TableInfo, cols: readonly string[], keys: readonly string[], merge: Readonly<Record<string, MergeRule>>): string {
  const present = new Set(cols)
  const need = (c: string, why: string): void => {
    if (!present.has(c)) throw new SluiceError('SINK_SCHEMA', `table ${table.schema}.${table.name} has no column ${c} (${why}); create it, or name a load schema so that it is created`)
  }
  for (const [c, rule] of Object.entries(merge)) {
    need(c, `aggregate ${rule}`)
    if (rule === 'avg') {
      need(`${c}__sum`, `running sum of avg ${c}`)
      need(`${c}__count`, `running count of avg ${c}`)
    }
  }
  const q = quoteIdent
  const ord = (c: string): string => `(array_agg(${q(c)} ORDER BY ${ORD} DESC))[1]`
  const select = cols.map((c) => {
    if (keys.includes(c)) return q(c)
    switch (merge[c]) {
      case 'count':
      case 'sum':
        return `sum(${q(c)})`
      case 'min':
        return `min(${q(c)})`
      case 'max':
        return `max(${q(c)})`
      case 'avg':
        return `sum(${q(`${c}__sum`)})::numeric / NULLIF(sum(${q(`${c}__count`)}), 0)`
      default:
        return ord(c)
    }
  })
  const addNullable = (c: string): string => `COALESCE(t.${q(c)} + EXCLUDED.${q(c)}, t.${q(c)}, EXCLUDED.${q(c)})`
  const addCount = (c: string): string => `COALESCE(t.${q(c)}, 0) + COALESCE(EXCLUDED.${q(c)}, 0)`
  const updates = cols
    .filter((c) => !keys.includes(c))
    .map((c) => {
      switch (merge[c]) {
        case 'count':
          return `${q(c)} = ${addCount(c)}`
        case 'sum':
          return `${q(c)} = ${addNullable(c)}`
        case 'min':
          return `${q(c)} = LEAST(t.${q(c)}, EXCLUDED.${q(c)})`
        case 'max':
          return `${q(c)} = GREATEST(t.${q(c)}, EXCLUDED.${q(c)})`
        case 'avg':
          return `${q(c)} = (${addNullable(`${c}__sum`)})::numeric / NULLIF(${addCount(`${c}__count`)}, 0)`
        default:
          return `${q(c)} = EXCLUDED.${q(c)}`
      }
    })
  const keyList = keys.map(q).join(', ')
  const action = updates.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${updates.join(', ')}`
  return `INSERT INTO ${table.quoted} AS t (${cols.map(q).join(', ')}) SELECT ${select.join(', ')} FROM ${STAGE} GROUP BY ${keyList} ON CONFLICT (${keyList}) ${action}`
}

/** Splits [lo, hi) after a data error: around the failing COPY line when known, else in pieces. */
function split(lo: number, hi: number, line: number | undefined, piece: number): Array<[number, number]> {
  if (line !== undefined && line >= 1 && line <= hi - lo) {
    const bad = lo + line - 1
    return ([[lo, bad], [bad, bad + 1], [bad + 1, hi]] as Array<[number, number]>).filter(([a, b]) => b > a)
  }
  const size = hi - lo > piece ? piece : Math.ceil((hi - lo) / 2)
  const out: Array<[number, number]> = []
  for (let a = lo; a < hi; a += size) out.push([a, Math.min(hi, a + size)])
  return out
}

/**
 * Writes `rows` into `table` by `mode`; see the file comment for bad-row handling. Values the server
 * would round or store as Infinity are refused first (column-fit.ts), like the ones it refuses.
 */
export async function writeRows(tx: PgSession, table: TableInfo, rows: readonly Row[], mode: LoadMode, isolate: boolean): Promise<RowsOutcome> {
  const rules = fitRules(table.columns)
  if (rules.length === 0) return copyRows(tx, table, rows, mode, isolate)
  const { fit, refused } = refuseMisfits(table, rows, rules)
  if (refused.length === 0) return copyRows(tx, table, rows, mode, isolate)
  if (!isolate) throw (refused[0] as RejectedRow).error
  const outcome = await copyRows(tx, table, fit, mode, isolate)
  return { written: outcome.written, rejected: [...refused, ...outcome.rejected] }
}

async function copyRows(tx: PgSession, table: TableInfo, rows: readonly Row[], mode: LoadMode, isolate: boolean): Promise<RowsOutcome> {
  if (mode.writeMode === 'overwrite') await tx.query(`DELETE FROM ${table.quoted}`)
  if (rows.length === 0) return { written: 0, rejected: [] }
  const columns = copyColumns(table, rows, mode.keys)
  const names = columns.map((c) => c.name)
  const quotedCols = names.map(quoteIdent)
  const upsert = mode.writeMode === 'upsert'
  let stageDirty = false
  let merge = ''
  if (upsert) {
    await tx.query(sqlText('upsert-work-mem'))
    await tx.query(`CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT ${quotedCols.join(', ')}, NULL::bigint AS ${ORD} FROM ${table.quoted} WITH NO DATA`)
    merge = mode.merge === undefined ? mergeSql(table, names, mode.keys) : aggregateMergeSql(table, names, mode.keys, mode.merge)
  }

  // The stage goes now, not only at COMMIT: another table of the same batch (topic routing) stages its own rows.
  const done = async (outcome: RowsOutcome): Promise<RowsOutcome> => {
    if (upsert) await tx.query(`DROP TABLE ${STAGE}`)
    return outcome
  }

  /** Writes rows [lo, hi); with `savepoint`, under that savepoint, established by the first statement. */
  const attempt = async (lo: number, hi: number, savepoint?: string): Promise<void> => {
    if (!upsert) {
      await tx.copyFrom(table.quoted, quotedCols, encodeTableRows(rows, columns, lo, hi, mode.limits), savepoint)
      return
    }
    if (stageDirty) {
      if (savepoint !== undefined) await tx.query(`SAVEPOINT ${savepoint}`)
      await tx.query(`TRUNCATE ${STAGE}`)
      await tx.copyFrom(STAGE, [...quotedCols, ORD], encodeTableRows(rows, columns, lo, hi, mode.limits, true))
    } else {
      await tx.copyFrom(STAGE, [...quotedCols, ORD], encodeTableRows(rows, columns, lo, hi, mode.limits, true), savepoint)
    }
    await tx.query(merge)
    stageDirty = true
  }

  if (!isolate) {
    try {
      await attempt(0, rows.length)
    } catch (err) {
      if (!isDataError(err)) throw err
      const line = copyLine(err)
      throw rowError(err, line === undefined ? undefined : rows[line - 1], table)
    }
    return done({ written: rows.length, rejected: [] })
  }

  const rejected: RejectedRow[] = []
  let written = 0
  const stack: Array<[number, number]> = [[0, rows.length]]
  let first = true
  while (stack.length > 0) {
    const [lo, hi] = stack.pop() as [number, number]
    try {
      await attempt(lo, hi, SAVEPOINT)
      // The first attempt covers every row and is the common case: its savepoint is left to COMMIT
      // (a RELEASE would be one more round trip per batch; a later writer's savepoint of the same
      // name nests inside it, and ROLLBACK TO / RELEASE name the newest). Retried ranges release
      // theirs, so a batch with many bad rows does not pile up open subtransactions.
      if (!first) await tx.query(`RELEASE SAVEPOINT ${SAVEPOINT}`)
      first = false
      written += hi - lo
    } catch (err) {
      first = false
      if (!isDataError(err)) throw err
      await tx.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`)
      await tx.query(`RELEASE SAVEPOINT ${SAVEPOINT}`)
      if (hi - lo === 1) {
        const row = rows[lo] as Row
        rejected.push({ row, error: rowError(err, row, table) })
        continue
      }
      const parts = split(lo, hi, copyLine(err), mode.limits.rows)
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i] as [number, number])
    }
  }
  return done({ written, rejected })
}

/** Deletes rows by key (tombstones in upsert mode with deleteOnTombstone, Debezium d events); returns rows deleted. */
export async function deleteByKeys(tx: PgSession, table: TableInfo, keys: readonly string[], deletes: readonly RowValues[]): Promise<number> {
  if (deletes.length === 0) return 0
  const byName = new Map(table.columns.map((c) => [c.name, c]))
  // Types come from the catalog (format_type), not from user input.
  const defs = keys.map((k) => `${quoteIdent(k)} ${(byName.get(k) as { type: string }).type}`)
  const match = keys.map((k) => `t.${quoteIdent(k)} = d.${quoteIdent(k)}`).join(' AND ')
  const payload = deletes.map((d) => Object.fromEntries(keys.map((k) => [k, fieldValue(d, k, k.toLowerCase()) ?? null])))
  const r = await tx.query(`DELETE FROM ${table.quoted} t USING jsonb_to_recordset($1::jsonb) AS d(${defs.join(', ')}) WHERE ${match}`, [JSON.stringify(payload, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))])
  return r.rowCount
}
