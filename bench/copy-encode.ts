/**
 * Micro-benchmark of COPY encoding (issue 13), before and after lines are written into the chunk's
 * Buffer, in one run on the same machine (no Kafka, no PostgreSQL):
 *
 *   node bench/copy-encode.ts [--records 50000] [--rounds 41]
 *
 * "old" is a frozen copy of the encoder before (each value appended to a chunk string, which
 * `Buffer.from` flattened and encoded per ~1 MiB chunk); "new" is the sink's encodeRows. Both use
 * the column encoders the sink picks for the benchmark table (bench/events.ts) on the same parsed
 * events, and must produce the same bytes (checked before timing). Old and new alternate round
 * by round; the median and best time per row of each are printed (garbage collection included).
 */
import { parseArgs } from 'node:util'
import { loadavg } from 'node:os'
import type { RowValues } from '../src/api/record.ts'
import { type ChunkLimits, type CopyColumn, DEFAULT_CHUNK, type ValueEncoder, encodeRows, encoderFor, fieldValue } from '../src/components/sinks/postgres/copy-encode.ts'
import { eventJson } from './events.ts'

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '41' } } })
const N = Number(args.records)
const ROUNDS = Number(args.rounds)

/** The encoder as it was before issue 13's change (copy-encode.ts at 1eae881), minus its failpoint. */
function* oldEncodeRows(rows: readonly RowValues[], columns: readonly CopyColumn[], lo: number, hi: number, limits: ChunkLimits = DEFAULT_CHUNK): Generator<Buffer> {
  const n = columns.length
  const names = columns.map((c) => c.name)
  const lowers = names.map((c) => c.toLowerCase())
  const encoders = columns.map((c) => c.encode)
  let chunk = ''
  let count = 0
  for (let i = lo; i < hi; i++) {
    const values = rows[i] as RowValues
    for (let c = 0; c < n; c++) {
      const v = fieldValue(values, names[c] as string, lowers[c] as string)
      if (c > 0) chunk += '\t'
      chunk += v === null || v === undefined ? '\\N' : (encoders[c] as ValueEncoder)(v)
    }
    chunk += '\n'
    if (++count >= limits.rows || chunk.length >= limits.chars) {
      yield Buffer.from(chunk, 'utf8')
      chunk = ''
      count = 0
    }
  }
  if (chunk.length > 0) yield Buffer.from(chunk, 'utf8')
}

// The benchmark table's columns and types (bench/events.ts tableDdl).
const TYPES: ReadonlyArray<readonly [string, string]> = [['id', 'int8'], ['user_id', 'text'], ['kind', 'text'], ['amount', 'numeric'], ['event_time', 'timestamptz'], ['note', 'text']]
const columns: CopyColumn[] = TYPES.map(([name, udt]) => ({ name, encode: encoderFor(udt, 'N') }))
const rows: RowValues[] = Array.from({ length: N }, (_, i) => JSON.parse(eventJson(i)) as RowValues)

function run(encode: typeof oldEncodeRows): { ms: number; bytes: Buffer } {
  const t0 = performance.now()
  const chunks = [...encode(rows, columns, 0, N)]
  const ms = performance.now() - t0
  return { ms, bytes: Buffer.concat(chunks) }
}

const reference = run(oldEncodeRows).bytes
if (!run(encodeRows).bytes.equals(reference)) throw new Error('old and new encoders produce different bytes')

const times: Record<'old' | 'new', number[]> = { old: [], new: [] }
for (let r = 0; r < ROUNDS; r++) {
  times.old.push(run(oldEncodeRows).ms)
  times.new.push(run(encodeRows).ms)
}
const perRow = (ms: number): string => `${((ms * 1e6) / N).toFixed(0)} ns`
for (const k of ['old', 'new'] as const) {
  const sorted = [...times[k]].sort((a, b) => a - b)
  console.log(`${k}: median ${perRow(sorted[Math.floor(sorted.length / 2)] as number)} per row, best ${perRow(sorted[0] as number)} (${N} rows x ${ROUNDS} rounds, ${reference.length} bytes, load ${loadavg()[0]?.toFixed(1)})`)
}
