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
 * Parses `table` or `schema.table`. Quoted parts keep their case and may contain dots and doubled
 * quotes (`"my.schema"."T""x"`); unquoted parts are taken verbatim. Returns why the name is
 * malformed instead (an empty part as in `public.`, a third part, an unclosed or stray quote), so
 * that `validate` refuses what a run would fail on.
 */
export function parseQualified(qualified: string): QualifiedName | { readonly error: string } {
  const parts: string[] = []
  let current = ''
  let quoted = false
  let closed = false
  for (let i = 0; i < qualified.length; i++) {
    const ch = qualified[i]
    if (quoted) {
      if (ch !== '"') current += ch
      else if (qualified[i + 1] === '"') {
        current += '"'
        i++
      } else {
        quoted = false
        closed = true
      }
    } else if (ch === '"') {
      if (current !== '' || closed) return { error: 'a double quote may only enclose a whole part: "schema"."table"' }
      quoted = true
    } else if (ch === '.') {
      if (parts.length === 1) return { error: 'has more than two parts: use table or schema.table (double-quote a name that contains a dot)' }
      parts.push(current)
      current = ''
      closed = false
    } else {
      if (closed) return { error: 'has text after a closing double quote' }
      current += ch
    }
  }
  if (quoted) return { error: 'has an unclosed double quote' }
  parts.push(current)
  if (parts.some((p) => p.trim().length === 0)) return { error: parts.length === 2 ? 'has an empty schema or table part: use table or schema.table' : 'is empty' }
  if (parts.some((p) => p.includes('\u0000'))) return { error: 'contains a NUL character' }
  return parts.length === 2 ? { schema: parts[0], name: parts[1] as string } : { schema: undefined, name: parts[0] as string }
}

/** Splits `schema.table` (see parseQualified); a malformed name is a CONFIG_INVALID error naming it. */
export function splitQualified(qualified: string): QualifiedName {
  const r = parseQualified(qualified)
  if ('error' in r) throw new SluiceError('CONFIG_INVALID', `table name ${JSON.stringify(qualified)} ${r.error}`)
  return r
}

/**
 * The name of a table beside `qualified`, its table part with `suffix` added (`orders` -> `orders_dlq`,
 * `"Sales"."Orders"` -> `Sales.Orders_dlq`), written so that splitQualified reads it back: a part is
 * double-quoted only when it holds a dot or a quote.
 */
export function suffixedTable(qualified: string, suffix: string): string {
  const { schema, name } = splitQualified(qualified)
  return qualifiedText({ schema, name: name + suffix })
}

/** `schema.table` (or `table`) as text that splitQualified reads back: a part is double-quoted only when it holds a dot or a quote. */
export function qualifiedText({ schema, name }: QualifiedName): string {
  const part = (p: string): string => (/[."]/.test(p) ? `"${p.replaceAll('"', '""')}"` : p)
  return schema === undefined ? part(name) : `${part(schema)}.${part(name)}`
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
