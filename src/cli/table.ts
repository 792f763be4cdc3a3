/** Plain-text tables for the CLI. */

/** Formats rows (arrays, in column order) as an aligned text table with a row count, like psql. */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return `${columns.length > 0 ? `${columns.join(' | ')}\n` : ''}(0 rows)`
  const cells = rows.map((r) => columns.map((_c, i) => show(r[i])))
  const widths = columns.map((c, i) => Math.min(60, Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length))))
  const line = (values: string[]): string => values.map((v, i) => v.slice(0, widths[i]).padEnd(widths[i] ?? 0)).join(' | ').trimEnd()
  const header = line([...columns])
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-')
  return [header, rule, ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n')
}

/** bytea (a Buffer from pg, a Uint8Array from PGlite) as PostgreSQL's hex text: `\x0a1b`. */
function byteaHex(v: Uint8Array): string {
  return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`
}

/**
 * A value as `--json` prints it: bytea as `\x...` hex (not a Buffer dump), also inside arrays;
 * bigint as a string (JSON has no 64-bit integer; pg gives int8 as a string already).
 */
export function jsonValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return byteaHex(v)
  if (Array.isArray(v)) return v.map(jsonValue)
  if (typeof v === 'bigint') return v.toString()
  return v
}

function show(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (v instanceof Date) return v.toISOString()
  if (v instanceof Uint8Array) return byteaHex(v).slice(0, 42)
  if (typeof v === 'object') return JSON.stringify(jsonValue(v))
  return String(v).replace(/\s+/g, ' ')
}
