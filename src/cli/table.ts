/** Plain-text tables for the CLI. */

/** Formats rows as an aligned text table with a row count, like psql. */
export function formatTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(0 rows)'
  const columns = Object.keys(rows[0] ?? {})
  const cells = rows.map((r) => columns.map((c) => show(r[c])))
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length))))
  const line = (values: string[]): string => values.map((v, i) => v.slice(0, widths[i]).padEnd(widths[i] ?? 0)).join(' | ').trimEnd()
  const header = line(columns)
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-')
  return [header, rule, ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n')
}

function show(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (v instanceof Date) return v.toISOString()
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex').slice(0, 40)}`
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v).replace(/\s+/g, ' ')
}
