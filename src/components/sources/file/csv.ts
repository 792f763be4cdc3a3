/**
 * CSV as RFC 4180 describes it, with a configurable one-character delimiter: fields may be quoted
 * with `"`, a quote inside a quoted field is doubled, and a quoted field may span lines. Empty
 * fields follow PostgreSQL's COPY ... CSV convention: an unquoted empty field is null, a quoted
 * empty field (`""`) is the empty string.
 */
import { setField } from '../../../api/record.ts'
import type { Line } from './lines.ts'

const QUOTE = 0x22

/** One logical CSV record: one or more physical lines joined while a quote is open. */
export interface CsvRecord {
  /** Number of the record's first physical line. */
  readonly line: number
  readonly bytes: Buffer
}

/** Joins physical lines into CSV records (a quoted field can hold newlines); batches in, batches out. */
export async function* csvRecords(batches: AsyncIterable<Line[]>): AsyncGenerator<CsvRecord[]> {
  let parts: Buffer[] = []
  let firstLine = 0
  let open = false
  for await (const lines of batches) {
    const out: CsvRecord[] = []
    for (const line of lines) {
      if (parts.length === 0) firstLine = line.number
      parts.push(line.bytes)
      if (countQuotes(line.bytes) % 2 === 1) open = !open
      if (open) continue
      out.push({ line: firstLine, bytes: joinLines(parts) })
      parts = []
    }
    if (out.length > 0) yield out
  }
  // An unterminated quote at the end of the file: hand the rest over as one record.
  if (parts.length > 0) yield [{ line: firstLine, bytes: joinLines(parts) }]
}

/** Splits one record into its fields. */
export function parseCsvRecord(text: string, delimiter: string): (string | null)[] {
  if (!text.includes('"')) return text.split(delimiter).map((f) => (f === '' ? null : f))
  const fields: (string | null)[] = []
  let i = 0
  const n = text.length
  for (;;) {
    if (text[i] === '"') {
      let value = ''
      i++
      for (;;) {
        const q = text.indexOf('"', i)
        if (q === -1) {
          value += text.slice(i)
          i = n
          break
        }
        value += text.slice(i, q)
        if (text[q + 1] === '"') {
          value += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
      // Characters between the closing quote and the delimiter are not valid CSV; keep them.
      const next = text.indexOf(delimiter, i)
      const end = next === -1 ? n : next
      value += text.slice(i, end)
      fields.push(value)
      if (next === -1) return fields
      i = next + delimiter.length
    } else {
      const next = text.indexOf(delimiter, i)
      const value = next === -1 ? text.slice(i) : text.slice(i, next)
      fields.push(value === '' ? null : value)
      if (next === -1) return fields
      i = next + delimiter.length
    }
  }
}

/** Names the fields of a record after the header; columns beyond the header are `_c<index>`. */
export function nameFields(header: readonly string[], values: readonly (string | null)[]): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (let i = 0; i < values.length; i++) setField(out, header[i] ?? `_c${i}`, values[i] ?? null)
  return out
}

/** Header names from the header record; empty names become `_c<index>` (Spark's convention). */
export function headerNames(values: readonly (string | null)[]): string[] {
  return values.map((v, i) => (v === null || v === '' ? `_c${i}` : v))
}

function countQuotes(bytes: Buffer): number {
  let count = 0
  let at = bytes.indexOf(QUOTE)
  while (at !== -1) {
    count++
    at = bytes.indexOf(QUOTE, at + 1)
  }
  return count
}

function joinLines(parts: Buffer[]): Buffer {
  if (parts.length === 1) return parts[0] as Buffer
  const joined: Buffer[] = []
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) joined.push(Buffer.from('\n'))
    joined.push(parts[i] as Buffer)
  }
  return Buffer.concat(joined)
}
