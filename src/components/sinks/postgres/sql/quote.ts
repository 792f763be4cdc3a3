/**
 * The one place where SQL identifiers are quoted. Every table, column, schema, savepoint and index
 * name that reaches a statement goes through here; values never do (they are parameters or COPY data).
 */
import { SluiceError } from '../../../../errors.ts'

/** Double-quotes one identifier, doubling embedded quotes (`a"b` -> `"a""b"`). */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('empty SQL identifier')
  if (name.includes('\u0000')) throw new Error('SQL identifier contains a NUL character')
  return `"${name.replaceAll('"', '""')}"`
}

/** A table name split into its schema (when given) and its relation name. */
export interface QualifiedName {
  readonly schema: string | undefined
  readonly name: string
}

/**
 * Splits `schema.table` at the first dot that is not inside double quotes; quoted parts keep their
 * case and may contain dots (`"my.schema"."T"`), unquoted parts are taken verbatim.
 */
export function splitQualified(qualified: string): QualifiedName {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < qualified.length; i++) {
    const ch = qualified[i]
    if (ch === '"') {
      if (quoted && qualified[i + 1] === '"') {
        current += '"'
        i++
      } else {
        quoted = !quoted
      }
    } else if (ch === '.' && !quoted && parts.length === 0) {
      parts.push(current)
      current = ''
    } else {
      current += ch
    }
  }
  parts.push(current)
  if (parts.some((p) => p.length === 0)) throw new Error(`invalid table name: ${qualified}`)
  return parts.length === 2 ? { schema: parts[0], name: parts[1] as string } : { schema: undefined, name: parts[0] as string }
}

/** Quotes `schema.table` (or `table`, qualified with `defaultSchema` when given) as `"schema"."table"`. */
export function quoteQualified(qualified: string, defaultSchema?: string): string {
  const { schema, name } = splitQualified(qualified)
  const s = schema ?? defaultSchema
  return s === undefined ? quoteIdent(name) : `${quoteIdent(s)}.${quoteIdent(name)}`
}

/** Quotes an already split name. */
export function quoteName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`
}

const SQL_TYPE = /^[A-Za-z_][A-Za-z0-9_ ]*?(\(\s*\d+(\s*,\s*\d+)?\s*\))?(\s*\[\d*\])*(\s+(NOT\s+)?NULL)?$/i

/**
 * Checks a column type coming from a schema file or a side output (`varchar(20)`, `numeric(12,2)`,
 * `timestamp with time zone`, `text[]`, optionally followed by `NOT NULL`). Types are spliced into DDL, so anything else is refused.
 */
export function checkSqlType(type: string): string {
  const t = type.trim()
  if (!SQL_TYPE.test(t)) throw new SluiceError('SINK_SCHEMA', `invalid column type: ${JSON.stringify(type)} (a type name, optional (n[,m]), [], NOT NULL)`)
  return t
}
