/**
 * The one read-only query helper, for `sluice sql` and the sink's `readOnlyQuery`. Three guards,
 * each enough for the usual case and together meant to leave no way to write:
 *   1. the text must be ONE statement starting with SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW
 *      (checked here, outside quotes, comments and dollar quotes): no `COMMIT; DELETE ...`, no COPY
 *      TO PROGRAM, no DO, CALL, SET or LOAD, which a READ ONLY transaction would let through;
 *   2. it runs through the extended query protocol, where the server itself refuses a second
 *      statement (the simple protocol would run `COMMIT; DELETE FROM t` as two);
 *   3. inside a READ ONLY transaction, so a write hidden in a CTE or EXPLAIN ANALYZE fails (25006).
 * The pipeline's schema is put first on the search path (quoted: its case is kept).
 */
import { SluiceError } from '../../../errors.ts'
import { classifyError, sqlState } from './classify-error.ts'
import type { PgDriver } from './driver.ts'
import { quoteIdent } from './sql/quote.ts'

/** Leading keywords of the statements `sluice sql` runs. */
export const READ_ONLY_KEYWORDS = ['SELECT', 'WITH', 'VALUES', 'TABLE', 'EXPLAIN', 'SHOW'] as const

/** Rows as arrays (so two columns of one name are both kept) with the column names in order. */
export interface ArrayResult {
  readonly columns: readonly string[]
  readonly rows: readonly (readonly unknown[])[]
}

/**
 * Splits `sql` into its statements' texts (comments removed, empty statements dropped), honouring
 * '...' / E'...' strings, "..." identifiers, $tag$...$tag$ bodies, -- and nested /* *\/ comments.
 */
export function statements(sql: string): string[] {
  const out: string[] = []
  let current = ''
  let i = 0
  const n = sql.length
  while (i < n) {
    const ch = sql[i] as string
    const next = sql[i + 1]
    if (ch === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++
      current += ' '
    } else if (ch === '/' && next === '*') {
      let depth = 1
      i += 2
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++
          i += 2
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--
          i += 2
        } else i++
      }
      current += ' '
    } else if (ch === "'" || ch === '"') {
      // E'...' strings also end at a quote not escaped by a backslash.
      const escapes = ch === "'" && /[eE]$/.test(current) && !/[A-Za-z0-9_$][eE]$/.test(current)
      let j = i + 1
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2
        else if (sql[j] === ch && sql[j + 1] === ch) j += 2
        else if (sql[j] === ch) break
        else j++
      }
      current += sql.slice(i, j + 1)
      i = j + 1
    } else if (ch === '$' && !/[A-Za-z0-9_]$/.test(current)) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (tag === null) {
        current += ch
        i++
        continue
      }
      const end = sql.indexOf(tag[0], i + tag[0].length)
      const stop = end === -1 ? n : end + tag[0].length
      current += sql.slice(i, stop)
      i = stop
    } else if (ch === ';') {
      out.push(current)
      current = ''
      i++
    } else {
      current += ch
      i++
    }
  }
  out.push(current)
  return out.map((s) => s.trim()).filter((s) => s.length > 0)
}

/** Refuses anything but one statement starting with a read-only keyword (QUERY_REFUSED). */
export function checkReadOnly(sql: string): void {
  const list = statements(sql)
  if (list.length === 0) throw new SluiceError('QUERY_REFUSED', 'the query is empty: give one SELECT (or WITH, VALUES, TABLE, EXPLAIN, SHOW) statement')
  if (list.length > 1) {
    throw new SluiceError('QUERY_REFUSED', `the query holds ${list.length} statements: sluice sql runs exactly one read-only statement (no "a; b")`)
  }
  // `(SELECT ...) UNION (...)` starts with a parenthesis.
  const keyword = /^[(\s]*([A-Za-z]+)/.exec(list[0] as string)?.[1]?.toUpperCase() ?? (list[0] as string).slice(0, 20)
  if (!(READ_ONLY_KEYWORDS as readonly string[]).includes(keyword)) {
    throw new SluiceError(
      'QUERY_REFUSED',
      `${keyword} is refused: sluice sql runs one ${READ_ONLY_KEYWORDS.slice(0, -1).join(', ')} or ${READ_ONLY_KEYWORDS.at(-1)} statement in a read-only transaction`,
    )
  }
}

/** What the server said when it refused a write or a second statement, as QUERY_REFUSED; else null. */
function refusal(err: unknown): SluiceError | null {
  const state = sqlState(err)
  const message = err instanceof Error ? err.message : String(err)
  if (state === '25006') return new SluiceError('QUERY_REFUSED', `${message} (SQLSTATE 25006): sluice sql is read-only`, { cause: err })
  if (/multiple commands/i.test(message)) return new SluiceError('QUERY_REFUSED', `${message}: sluice sql runs exactly one statement`, { cause: err })
  return null
}

/**
 * Runs one read-only statement (see the module comment) with `schema` first on the search path.
 * Refusals are QUERY_REFUSED; other failures are rethrown as the driver raised them (the caller
 * classifies them, e.g. as QUERY_FAILED or SINK_AUTH).
 */
export async function readOnlyQuery(driver: PgDriver, sql: string, schema: string): Promise<ArrayResult> {
  checkReadOnly(sql)
  try {
    return await driver.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY')
      await tx.query(`SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)`, [quoteIdent(schema)])
      return tx.queryArrays(sql)
    })
  } catch (err) {
    throw refusal(err) ?? err
  }
}

/** Rows as objects keyed by column name; a repeated name gets `_2`, `_3` ... (a free one) so no value is lost. */
export function rowObjects(result: ArrayResult): Record<string, unknown>[] {
  const used = new Set<string>()
  const keys = result.columns.map((name) => {
    let key = name
    for (let k = 2; used.has(key) || (key !== name && result.columns.includes(key)); k++) key = `${name}_${k}`
    used.add(key)
    return key
  })
  return result.rows.map((row) => Object.fromEntries(keys.map((k, i) => [k, row[i]])))
}

/**
 * The SluiceError of a failed `sluice sql` query: refusals stay QUERY_REFUSED; what the server said
 * about the query itself (syntax, unknown table, types) is QUERY_FAILED; connection, login and TLS
 * failures keep their own codes (SINK_UNAVAILABLE, SINK_AUTH, ...).
 */
export function queryFailure(err: unknown, secrets: readonly string[]): SluiceError {
  const e = classifyError(err, 'sluice sql', secrets)
  const own = new Set(['SINK_UNAVAILABLE', 'SINK_TIMEOUT', 'SINK_CONFLICT', 'SINK_AUTH', 'QUERY_REFUSED'])
  if (own.has(e.code) || e.details.sqlstate === undefined) return e
  return new SluiceError('QUERY_FAILED', e.message, { cause: err, details: e.details })
}
