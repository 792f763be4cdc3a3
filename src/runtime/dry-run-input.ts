/**
 * Sample records for `sluice test --input file.ndjson`, as SourceRecords the record path reads
 * exactly as it reads the source's. One line is one record:
 *
 * - By default a line is the record's value, byte for byte, as the NDJSON file source reads it: a
 *   line that is not JSON, or JSON but not an object, goes through the decoder and becomes the
 *   same dead letter a run would make.
 * - A line that is a JSON object with a `value` member and only the members key, value, headers,
 *   timestamp, timestampType, topic, partition, offset is an envelope: a record with metadata
 *   (`--input-format records` makes every line one, `values` none).
 *
 * Defaults are fixed, never the clock, so that an `--expect` file compares the same tomorrow:
 * timestamp 0, topic the pipeline's first topic, partition 0, offset the record's 0-based index.
 */
import type { SourceRecord } from '../api/record.ts'
import { SluiceError } from '../errors.ts'

export type InputFormat = 'auto' | 'values' | 'records'

export const INPUT_FORMATS: readonly InputFormat[] = ['auto', 'values', 'records']

const ENVELOPE_KEYS = new Set(['key', 'value', 'headers', 'timestamp', 'timestampType', 'topic', 'partition', 'offset'])

/** Where the sample records pretend to come from. */
export interface InputDefaults {
  readonly topic: string
  /** File source pipelines: the records carry `line` (for `_metadata.line`). */
  readonly withLines: boolean
}

/** Parses the NDJSON text of an input file into source records; blank lines are skipped as the file source does. */
export function parseInput(text: string, format: InputFormat, defaults: InputDefaults, file: string): SourceRecord[] {
  const records: SourceRecord[] = []
  const lines = text.split('\n')
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line.trim() === '') return
    const at = { index: records.length, line: i + 1 }
    const envelope = format === 'values' ? null : envelopeOf(line, format === 'records', `${file} line ${at.line}`)
    records.push(envelope === null ? valueRecord(Buffer.from(line, 'utf8'), at, defaults) : envelopeRecord(envelope, at, defaults, `${file} line ${at.line}`))
  })
  return records
}

interface Place {
  readonly index: number
  readonly line: number
}

function base(at: Place, defaults: InputDefaults): Pick<SourceRecord, 'partition' | 'topic' | 'partitionNumber' | 'offset' | 'timestamp'> & { line?: number } {
  return {
    topic: defaults.topic,
    partition: `${defaults.topic}/0`,
    partitionNumber: 0,
    offset: String(at.index),
    timestamp: 0,
    ...(defaults.withLines ? { line: at.line } : {}),
  }
}

function valueRecord(value: Buffer, at: Place, defaults: InputDefaults): SourceRecord {
  return { ...base(at, defaults), key: null, value, headers: [] }
}

/** The envelope object of a line, or null when the line is a plain value; `required` refuses anything else. */
function envelopeOf(line: string, required: boolean, where: string): Record<string, unknown> | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    if (required) throw inputError(`${where}: not a JSON object (--input-format records wants {"value": ..., "key": ..., ...} on every line)`)
    return null
  }
  const isEnvelope = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.hasOwn(parsed, 'value') && Object.keys(parsed).every((k) => ENVELOPE_KEYS.has(k))
  if (isEnvelope) return parsed as Record<string, unknown>
  if (required) throw inputError(`${where}: not a record envelope (members ${[...ENVELOPE_KEYS].join(', ')}, with value)`)
  return null
}

function envelopeRecord(e: Record<string, unknown>, at: Place, defaults: InputDefaults, where: string): SourceRecord {
  const b = base(at, defaults)
  const topic = e.topic === undefined ? b.topic : stringMember(e.topic, 'topic', where)
  const partition = e.partition === undefined ? 0 : integerMember(e.partition, 'partition', where)
  const offset = e.offset === undefined ? b.offset : String(integerMember(e.offset, 'offset', where))
  const timestampType = e.timestampType === undefined ? undefined : e.timestampType === 0 || e.timestampType === 1 ? e.timestampType : fail(where, 'timestampType must be 0 or 1')
  return {
    ...b,
    topic,
    partition: `${topic}/${partition}`,
    partitionNumber: partition,
    offset,
    timestamp: e.timestamp === undefined ? 0 : timestampMember(e.timestamp, where),
    ...(timestampType === undefined ? {} : { timestampType }),
    key: bytesOf(e.key),
    value: bytesOf(e.value),
    headers: headersMember(e.headers, where),
  }
}

/** A string is the bytes as written (so a broken JSON text can be tested); any other JSON value its JSON text; null stays null. */
function bytesOf(v: unknown): Buffer | null {
  if (v === null || v === undefined) return null
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8')
}

function headersMember(v: unknown, where: string): Array<readonly [string, Buffer]> {
  if (v === undefined || v === null) return []
  if (typeof v !== 'object' || Array.isArray(v)) return fail(where, 'headers must be an object of name: text (or an array of texts for a repeated name)')
  const out: Array<readonly [string, Buffer]> = []
  for (const [name, value] of Object.entries(v)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one !== 'string') return fail(where, `header ${name} must be text`)
      out.push([name, Buffer.from(one, 'utf8')])
    }
  }
  return out
}

function timestampMember(v: unknown, where: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v)
  return fail(where, 'timestamp must be epoch milliseconds or an ISO-8601 time')
}

function stringMember(v: unknown, name: string, where: string): string {
  return typeof v === 'string' && v !== '' ? v : fail(where, `${name} must be a non-empty string`)
}

function integerMember(v: unknown, name: string, where: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : fail(where, `${name} must be a whole number, 0 or more`)
}

function fail(where: string, message: string): never {
  throw inputError(`${where}: ${message}`)
}

function inputError(message: string): SluiceError {
  return new SluiceError('CONFIG_UNREADABLE', `test input: ${message}`)
}
