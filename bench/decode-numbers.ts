/**
 * Micro-benchmark of the decode + COPY-encode path, before and after lossless numbers, in one run on
 * the same machine (no Kafka, no PostgreSQL):
 *
 *   node bench/decode-numbers.ts [--records 10000] [--rounds 61]
 *
 * "old" is a frozen copy of the decode before lossless numbers (plain JSON.parse) with the generic
 * encoder for the bigint column; "new" is the engine's decodeRecord and the encoders the sink picks
 * for the benchmark table (bench/events.ts). Old and new alternate, round by round, and the median and best
 * per-record CPU time of each are printed: ordinary events (ids < 2^53, short decimals), and events that
 * carry a 20-digit id and a 40-digit amount (which take the lossless path; old rounds them), and
 * the time of the fast path's one addition, the digit-run scan, alone.
 */
import { parseArgs } from 'node:util'
import type { RowValues, SourceRecord } from '../src/api/record.ts'
import { type CopyColumn, encodeGeneric, encodeRows, encodeTime, encoderFor } from '../src/components/sinks/postgres/copy-encode.ts'
import { decodeRecord } from '../src/engine/decode.ts'
import { bytesHaveLongDigitRun } from '../src/engine/exact-number.ts'
import { COLUMNS, eventJson } from './events.ts'

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '61' } } })
const N = Number(args.records)
const ROUNDS = Number(args.rounds)

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The decode as it was: UTF-8, JSON.parse, object check (metadata is added later, by the record path). */
function oldDecode(record: SourceRecord): RowValues | null {
  const text = utf8.decode(record.value as Buffer)
  const parsed: unknown = JSON.parse(text)
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null
  return parsed as RowValues
}

function newDecode(record: SourceRecord): RowValues | null {
  const r = decodeRecord(record)
  return r.ok ? r.values : null
}

const TYPES = ['int8', 'text', 'text', 'numeric', 'timestamptz', 'text'] as const
const oldColumns: CopyColumn[] = COLUMNS.map((name, i) => ({ name, encode: TYPES[i] === 'timestamptz' ? encodeTime : encodeGeneric }))
const newColumns: CopyColumn[] = COLUMNS.map((name, i) => ({ name, encode: encoderFor(TYPES[i] as string, 'N') }))

function records(json: (i: number) => string): SourceRecord[] {
  return Array.from({ length: N }, (_, i) => ({
    partition: 'bench/0',
    topic: 'bench',
    partitionNumber: 0,
    offset: String(i),
    key: null,
    value: Buffer.from(json(i), 'utf8'),
    timestamp: 0,
    headers: [],
  }))
}

const BIG = (i: number): string => eventJson(i).replace(/"id":\d+/, `"id":${9007199254740993n + BigInt(i)}`).replace(/"amount":[\d.]+/, '"amount":12345678901234567890.12345678901234567890')

let sink = 0
function run(input: readonly SourceRecord[], decode: (r: SourceRecord) => RowValues | null, columns: readonly CopyColumn[]): number {
  // CPU time of this process, not wall time: the machine is shared, and other processes' load
  // should not count against either side.
  const t0 = process.cpuUsage()
  const rows: RowValues[] = []
  for (const r of input) {
    const v = decode(r)
    if (v !== null) rows.push(v)
  }
  for (const chunk of encodeRows(rows, columns, 0, rows.length)) sink += chunk.length
  const used = process.cpuUsage(t0)
  return ((used.user + used.system) * 1000) / input.length
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

function compare(title: string, input: readonly SourceRecord[]): void {
  const old: number[] = []
  const neu: number[] = []
  run(input, oldDecode, oldColumns) // warm-up
  run(input, newDecode, newColumns)
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so that neither side always runs on a warmer (or busier) machine.
    if (r % 2 === 0) {
      old.push(run(input, oldDecode, oldColumns))
      neu.push(run(input, newDecode, newColumns))
    } else {
      neu.push(run(input, newDecode, newColumns))
      old.push(run(input, oldDecode, oldColumns))
    }
  }
  // The fast path's only added work is the scan: timed alone it is a steadier figure than the
  // difference of two noisy totals.
  const scan: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.cpuUsage()
    for (const rec of input) if (bytesHaveLongDigitRun(rec.value as Buffer)) sink++
    const used = process.cpuUsage(t0)
    scan.push(((used.user + used.system) * 1000) / input.length)
  }
  const line = (what: string, o: number, n: number): string =>
    `${what} old ${o.toFixed(0).padStart(5)} new ${n.toFixed(0).padStart(5)} ns/record ${(((n - o) / o) * 100).toFixed(1).padStart(6)} %`
  console.log(`${title.padEnd(30)} ${line('median', median(old), median(neu))}   ${line('best', Math.min(...old), Math.min(...neu))}`)
  console.log(`${''.padEnd(30)} the scan alone: median ${median(scan).toFixed(0)} ns/record = ${((median(scan) / median(old)) * 100).toFixed(1)} % of old`)
}

console.log(`decode + COPY encode, ${N} records x ${ROUNDS} rounds (median), node ${process.version}`)
compare('ordinary events (~200 B)', records(eventJson))
compare('20-digit id, 40-digit amount', records(BIG))
if (sink === 0) console.log('(nothing encoded)')
