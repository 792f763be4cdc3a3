/**
 * Sluice benchmark (issue 3, "Performance"): Kafka -> PostgreSQL with trigger availablenow.
 *
 *   npm run bench -- [--records N] [--partitions P] [--value-bytes B] [--repeat K] [--max-offsets M]
 *                    [--max-bytes SIZE] [--kafka k=v,...] [--keep] [--cpu-prof DIR] [--json] [--schema-prefix P]
 *                    [--only copy,eo-append,alo-append,eo-upsert,eo-fetch-1m,eo-fetch-8m,eo-window-append,eo-dedup,eo-cdc]
 *   npm run bench -- --workers 1,2,3 [--records N] [--partitions P (default 12)] [--repeat K]
 *   npm run bench -- --latency 50000,200 [--seconds S (default 60)] [--partitions P] [--records N]
 *
 * Produces N ~200-byte JSON events (6 columns) to a topic named after N and P (reused when it
 * already holds N records), then, each into a fresh schema: raw `psql \copy` of the same rows
 * (the baseline), exactly-once append, at-least-once append, exactly-once upsert (primary key id);
 * eo-fetch-1m and eo-fetch-8m are exactly-once append with kafka.fetch.max.bytes and
 * kafka.max.partition.fetch.bytes both 1 MiB or both 8 MiB (the fetch-size comparison).
 * eo-window-append and eo-dedup are the stateful operators (issue 12, bench/stateful.ts): 1-minute
 * tumbling windows over 10,000 keys in append mode, and deduplication of 10 % repeated ids, each
 * reading a topic of its own event shape (suffix -win, -dup) and checked its own way.
 * eo-cdc is a Debezium change stream (issue 14, bench/cdc.ts): N change events (65 % creates, 30 %
 * updates, 5 % deletes; key {"id": N} on the partition of its key) applied by key with
 * `envelope: "debezium"` into `events` (upsert on id), checked row for row against the final state
 * the events give (topic suffix -cdc); run it beside eo-upsert, the plain upsert of N new ids.
 * Schemas are named <schema-prefix>_<stamp>_<round>_<scenario> (--schema-prefix, default bench).
 * --value-bytes pads each event's note so its JSON value is about B bytes (default ~200).
 * Every run is checked (count = N, distinct ids = N, ids 0..N-1) before its figure is printed.
 * With --repeat K each scenario runs K times (rounds interleaved) and the fastest run is reported:
 * on a shared machine the best run is the one least disturbed by other work. The load average
 * and the sluice process's CPU time are printed beside each figure for the same reason.
 *
 * --workers 1,2,3 is the scale-out benchmark instead (issue 11, bench/workers.ts): the raw COPY
 * baseline, then for each count one continuous pipeline started as that many `sluice run`
 * processes sharing the topic's partitions through the consumer group, timed until every record
 * committed, verified (rows, distinct ids, no batch id gaps), stopped with SIGTERM.
 *
 * --latency R1,R2 is the continuous-trigger benchmark instead (issue 13, bench/latency.ts): the raw
 * COPY of N rows, then for each rate a continuous exactly-once pipeline fed R records/s for S
 * seconds: p50/p99 end-to-end latency, batches, CPU per batch (a low rate shows the fixed cost).
 */
import { parseArgs } from 'node:util'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir, cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { COLUMNS, type EventShape, PLAIN, eventCopyLine, eventJson, setValueBytes } from './events.ts'
import { ensureTopic } from './produce.ts'
import { benchPool, checkTable, dropSchema, freshSchema, psqlCopy } from './pg.ts'
import { runSluice, type Scenario, type RunMeasure } from './sluice.ts'
import { dedup, windowAppend } from './stateful.ts'
import { cdc } from './cdc.ts'
import { runWorkers, type WorkersMeasure } from './workers.ts'
import { runLatency, type LatencyMeasure } from './latency.ts'

const SCENARIOS: Record<string, Scenario> = {
  'eo-append': { name: 'exactly-once append', writeMode: 'append', exactlyOnce: true },
  'alo-append': { name: 'at-least-once append', writeMode: 'append', exactlyOnce: false },
  'eo-upsert': { name: 'exactly-once upsert', writeMode: 'upsert', exactlyOnce: true },
  'eo-fetch-1m': { name: 'exactly-once append, fetch 1 MiB', writeMode: 'append', exactlyOnce: true, kafkaParams: fetchParams(1 << 20) },
  'eo-fetch-8m': { name: 'exactly-once append, fetch 8 MiB', writeMode: 'append', exactlyOnce: true, kafkaParams: fetchParams(8 << 20) },
  'eo-window-append': windowAppend,
  'eo-dedup': dedup,
  'eo-cdc': cdc,
}

function fetchParams(bytes: number): Record<string, string> {
  return { 'kafka.fetch.max.bytes': String(bytes), 'kafka.max.partition.fetch.bytes': String(bytes) }
}

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    partitions: { type: 'string' },
    workers: { type: 'string' },
    latency: { type: 'string' },
    seconds: { type: 'string', default: '60' },
    'max-offsets': { type: 'string' },
    'max-bytes': { type: 'string' },
    'value-bytes': { type: 'string' },
    repeat: { type: 'string', default: '1' },
    kafka: { type: 'string' },
    only: { type: 'string', default: 'copy,eo-append,alo-append,eo-upsert' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    json: { type: 'boolean', default: false },
    'schema-prefix': { type: 'string', default: 'bench' },
  },
})
const n = Number(args.records)
/** Worker counts of the scale-out benchmark (--workers 1,2,3), or null for the scenarios. */
const workerCounts = args.workers === undefined ? null : args.workers.split(',').map((w) => Number(w.trim())).filter((w) => Number.isInteger(w) && w > 0)
/** Record rates of the continuous-trigger latency benchmark (--latency 50000,200), or null. */
const latencyRates = args.latency === undefined ? null : args.latency.split(',').map((r) => Number(r.trim())).filter((r) => r > 0)
const partitions = Number(args.partitions ?? (workerCounts ? 12 : 4))
const maxOffsets = args['max-offsets'] === undefined ? undefined : Number(args['max-offsets'])
const maxBytes = args['max-bytes']
const valueBytes = args['value-bytes'] === undefined ? undefined : Number(args['value-bytes'])
if (valueBytes !== undefined) setValueBytes(valueBytes)
const only = (args.only ?? '').split(',').map((s) => s.trim()).filter(Boolean)
const repeat = Math.max(1, Number(args.repeat))
const schemaPrefix = args['schema-prefix'] ?? 'bench'
/** Extra Kafka connectionParams for the pipelines, e.g. kafka.max.partition.fetch.bytes=1048576. */
const kafkaParams: Record<string, string> = Object.fromEntries(
  (args.kafka ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
)

/** One printed line of results. */
interface Result {
  readonly key: string
  readonly name: string
  readonly seconds: number
  readonly rate: number
  readonly steadyRate: number | null
  readonly batches: number | null
  readonly peakRssMb: number | null
  readonly cpuSeconds: number | null
  /** Spawn to the query's first log line ("query resumed"): process start, module loading, connections. */
  readonly startupSeconds: number | null
  /** The CPU seconds of that start-up (less disturbed by a busy machine than its wall time). */
  readonly startupCpuSeconds: number | null
  readonly load: number
  /** What the check after the run found, when it says more than "N rows, N distinct ids". */
  readonly checked: string
}

async function writeCopyFile(file: string): Promise<void> {
  if (existsSync(file)) return
  const out = createWriteStream(file)
  let buf = ''
  for (let i = 0; i < n; i++) {
    buf += eventCopyLine(i)
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain')
      buf = ''
    }
  }
  out.end(buf)
  await once(out, 'finish')
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

/** The topic of an event shape: named after N, P, the value size and the shape. */
const topicOf = (shape: EventShape): string => `sluice-bench-${n}-p${partitions}${valueBytes === undefined ? '' : `-v${valueBytes}`}${shape.suffix}`
const topic = topicOf(PLAIN)

/** The event shapes the selected runs read, each once (the plain one for the COPY baseline and the workers too). */
function shapesNeeded(): EventShape[] {
  if (workerCounts) return [PLAIN]
  if (latencyRates) return []
  return [...new Set(only.map((key) => (key === 'copy' ? PLAIN : SCENARIOS[key]?.shape ?? PLAIN)))]
}

async function main(): Promise<void> {
  console.log(`sluice benchmark: N=${fmt(n)} x ${Buffer.byteLength(eventJson(0))} B values, topic ${topic} (${partitions} partitions), ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`)
  for (const shape of shapesNeeded()) {
    const name = topicOf(shape)
    const produced = await ensureTopic(name, n, partitions, shape)
    console.log(produced.produced ? `produced ${fmt(n)} records to ${name} in ${produced.seconds.toFixed(1)} s (${fmt(n / produced.seconds)}/s)` : `topic ${name} already holds ${fmt(n)} records: reused`)
  }
  const pool = benchPool()
  const stamp = Date.now().toString(36)
  const tmp = await mkdtemp(join(tmpdir(), 'sluice-bench-'))
  const results: Result[] = []
  if (latencyRates) {
    try {
      await benchLatency(pool, latencyRates, stamp, tmp)
    } finally {
      await pool.end()
      await rm(tmp, { recursive: true, force: true })
    }
    return
  }
  if (workerCounts) {
    try {
      await benchWorkers(pool, workerCounts, stamp, tmp)
    } finally {
      await pool.end()
      await rm(tmp, { recursive: true, force: true })
    }
    return
  }
  try {
    for (let round = 1; round <= repeat; round++) {
      for (const key of only) {
        const r = await runScenario(pool, key, `${schemaPrefix}_${stamp}_${round}_${key.replace(/-/g, '_')}`, tmp)
        results.push(r)
        console.log(`  ${repeat > 1 ? `[${round}/${repeat}] ` : ''}${r.name}: ${r.seconds.toFixed(2)} s, ${fmt(r.rate)} records/s${r.steadyRate ? ` (steady ${fmt(r.steadyRate)}/s over ${r.batches} batches)` : ''}${r.peakRssMb ? `, peak RSS ${r.peakRssMb.toFixed(0)} MiB, CPU ${r.cpuSeconds?.toFixed(1)} s` : ''}${r.startupSeconds !== null ? `, startup ${r.startupSeconds.toFixed(2)} s (CPU ${r.startupCpuSeconds?.toFixed(2) ?? '-'} s)` : ''}, load ${r.load.toFixed(1)} [verified${r.checked ? `: ${r.checked}` : ''}]`)
      }
    }
  } finally {
    await pool.end()
    await rm(tmp, { recursive: true, force: true })
  }
  report(best(results))
}

/** Runs one scenario into a fresh schema, checks the table, drops the schema (unless --keep). */
async function runScenario(pool: ReturnType<typeof benchPool>, key: string, schema: string, tmp: string): Promise<Result> {
  const load = loadavg()[0] ?? 0
  let r: Result
  if (key === 'copy') {
    const file = join(tmp, 'events.copy')
    await writeCopyFile(file)
    await freshSchema(pool, schema, false)
    const seconds = await psqlCopy(schema, file, COLUMNS)
    await verify(pool, schema, key)
    r = { key, name: 'raw COPY (psql \\copy)', seconds, rate: n / seconds, steadyRate: null, batches: null, peakRssMb: null, cpuSeconds: null, startupSeconds: null, startupCpuSeconds: null, load, checked: '' }
  } else {
    const s = SCENARIOS[key]
    if (!s) throw new Error(`unknown scenario ${key} (copy, ${Object.keys(SCENARIOS).join(', ')})`)
    await freshSchema(pool, schema, s.writeMode === 'upsert', s.pipeline?.table === undefined)
    const nodeFlags = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof'], '--cpu-prof-name', `${key}-${Date.now()}.cpuprofile`] : []
    const m: RunMeasure = await runSluice(s, topicOf(s.shape ?? PLAIN), schema, {
      ...(maxOffsets ? { maxOffsets } : {}),
      ...(maxBytes ? { maxBytes } : {}),
      nodeFlags,
      kafkaParams: { ...kafkaParams, ...s.kafkaParams },
      // Stateful steps do more per record (state merged and read in every batch): twice the time before the kill.
      timeoutMs: Math.max(120_000, n * 0.3 * Math.max(1, (valueBytes ?? 200) / 200) * (s.pipeline ? 2 : 1)),
    })
    if (m.exitCode !== 0) throw new Error(`${s.name}: sluice exited with ${m.exitCode}\n${m.stderrTail}`)
    if (m.records !== n) throw new Error(`${s.name}: batches report ${m.records} records, expected ${n}`)
    let checked = ''
    if (s.verify) checked = await s.verify(pool, schema, n, m, partitions)
    else await verify(pool, schema, key)
    r = { key, name: s.name, seconds: m.wallSeconds, rate: n / m.wallSeconds, steadyRate: m.steadyRate, batches: m.batches, peakRssMb: m.peakRssKb / 1024, cpuSeconds: m.cpuSeconds, startupSeconds: m.querySeconds === null ? null : m.wallSeconds - m.querySeconds, startupCpuSeconds: m.startupCpuSeconds, load: Math.max(load, loadavg()[0] ?? 0), checked }
  }
  if (!args.keep) await dropSchema(pool, schema)
  return r
}

/** The scale-out benchmark: raw COPY, then each worker count; rounds interleaved, the fastest run of each reported. */
async function benchWorkers(pool: ReturnType<typeof benchPool>, counts: readonly number[], stamp: string, tmp: string): Promise<void> {
  const copies: Result[] = []
  const runs = new Map<number, WorkersMeasure>()
  for (let round = 1; round <= repeat; round++) {
    const copy = await runScenario(pool, 'copy', `${schemaPrefix}_${stamp}_${round}_copy`, tmp)
    copies.push(copy)
    console.log(`  ${repeat > 1 ? `[${round}/${repeat}] ` : ''}raw COPY: ${copy.seconds.toFixed(2)} s, ${fmt(copy.rate)} records/s, load ${copy.load.toFixed(1)} [verified]`)
    for (const w of counts) {
      const schema = `${schemaPrefix}_${stamp}_${round}_w${w}`
      await freshSchema(pool, schema, false)
      const m = await runWorkers(pool, topic, schema, n, w, {
        ...(maxOffsets ? { maxOffsets } : {}),
        ...(maxBytes ? { maxBytes } : {}),
        kafkaParams,
        timeoutMs: Math.max(180_000, n * 0.5),
      })
      await verify(pool, schema, `${w} worker(s)`)
      if (!args.keep) await dropSchema(pool, schema)
      console.log(`  ${repeat > 1 ? `[${round}/${repeat}] ` : ''}${w} worker(s): ${m.seconds.toFixed(2)} s, ${fmt(n / m.seconds)} records/s${m.steadySeconds ? ` (steady ${fmt(m.steadyRecords / m.steadySeconds)}/s)` : ''}${m.settledRate ? `, after the last rebalance ${fmt(m.settledRate)}/s` : ''}, ${m.batches} batches by ${m.committers} worker(s), partitions owned at the end ${m.owned.join('/')}, fenced ${m.fenced}, CPU ${m.cpuSeconds.toFixed(1)} s, load ${m.load.toFixed(1)} [verified: rows, distinct ids, no batch id gaps, SIGTERM exit 0]`)
      const prev = runs.get(w)
      if (!prev || m.seconds < prev.seconds) runs.set(w, m)
    }
  }
  const copy = copies.reduce((a, b) => (b.seconds < a.seconds ? b : a))
  console.log(`\n${repeat > 1 ? `best of ${repeat} runs; ` : ''}N = ${fmt(n)}, ${partitions} partitions, triggerMode continuous, groupMembership on (default)`)
  console.log('| run | seconds (first spawn to last commit) | records/s | steady records/s | records/s after the last rebalance | time vs raw COPY | batches | workers that committed | partitions owned at the end | fenced batches | CPU s (all workers) | load avg |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|')
  console.log(`| raw COPY (\`psql \\copy\`) | ${copy.seconds.toFixed(2)} | ${fmt(copy.rate)} | - | - | 1.00x | - | - | - | - | - | ${copy.load.toFixed(1)} |`)
  for (const w of counts) {
    const m = runs.get(w) as WorkersMeasure
    const steady = m.steadySeconds ? fmt(m.steadyRecords / m.steadySeconds) : '-'
    console.log(`| ${w} worker${w > 1 ? 's' : ''} | ${m.seconds.toFixed(2)} | ${fmt(n / m.seconds)} | ${steady} | ${m.settledRate ? fmt(m.settledRate) : '-'} | ${(m.seconds / copy.seconds).toFixed(2)}x | ${m.batches} | ${m.committers} | ${m.owned.join(' / ')} | ${m.fenced} | ${m.cpuSeconds.toFixed(1)} | ${m.load.toFixed(1)} |`)
  }
  if (args.json) console.log(JSON.stringify({ n, partitions, copy, workers: [...runs.values()] }))
}

/** The continuous-trigger benchmark: raw COPY of N rows (the throughput floor), then each rate for --seconds. */
async function benchLatency(pool: ReturnType<typeof benchPool>, rates: readonly number[], stamp: string, tmp: string): Promise<void> {
  const copy = await runScenario(pool, 'copy', `${schemaPrefix}_${stamp}_copy`, tmp)
  console.log(`  raw COPY of ${fmt(n)} rows: ${copy.seconds.toFixed(2)} s, ${fmt(copy.rate)} records/s, load ${copy.load.toFixed(1)} [verified]`)
  const seconds = Number(args.seconds)
  const runs: LatencyMeasure[] = []
  for (const rate of rates) {
    const nodeFlags = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof'], '--cpu-prof-name', `latency-${rate}-${Date.now()}.cpuprofile`] : []
    const m = await runLatency(pool, rate, seconds, partitions, stamp, nodeFlags)
    runs.push(m)
    console.log(`  ${fmt(rate)} records/s for ${seconds} s: p50 ${m.p50Ms.toFixed(0)} ms, p99 ${m.p99Ms.toFixed(0)} ms, max ${m.maxMs.toFixed(0)} ms, ${m.batches} batches, CPU ${m.cpuSeconds.toFixed(2)} s (${m.cpuMsPerBatch.toFixed(2)} ms per batch), load ${m.load.toFixed(1)} [verified: ${fmt(m.records)} rows, distinct ids]`)
  }
  console.log(`\ntriggerMode continuous, exactly-once append, ${partitions} partitions; latency = send begun -> its batch's positions committed (polled every 5 ms)`)
  console.log('| target records/s | produced records/s | records | p50 ms | p99 ms | max ms | batches | CPU s after start-up | CPU ms per batch | load avg |')
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const m of runs) console.log(`| ${fmt(m.targetRate)} | ${fmt(m.producedRate)} | ${fmt(m.records)} | ${m.p50Ms.toFixed(0)} | ${m.p99Ms.toFixed(0)} | ${m.maxMs.toFixed(0)} | ${m.batches} | ${m.cpuSeconds.toFixed(2)} | ${m.cpuMsPerBatch.toFixed(2)} | ${m.load.toFixed(1)} |`)
  console.log(`raw COPY of ${fmt(n)} rows: ${copy.seconds.toFixed(2)} s (${fmt(copy.rate)} records/s), load ${copy.load.toFixed(1)}`)
  if (args.json) console.log(JSON.stringify({ partitions, seconds, copy, latency: runs }))
}

/** The fastest run of each scenario, in the order first seen; peak RSS is the highest of all runs. */
function best(results: readonly Result[]): Result[] {
  const out = new Map<string, Result>()
  const rss = new Map<string, number>()
  for (const r of results) {
    const b = out.get(r.key)
    if (!b || r.seconds < b.seconds) out.set(r.key, r)
    if (r.peakRssMb !== null) rss.set(r.key, Math.max(rss.get(r.key) ?? 0, r.peakRssMb))
  }
  return [...out.values()].map((r) => (rss.has(r.key) ? { ...r, peakRssMb: rss.get(r.key) ?? null } : r))
}

async function verify(pool: ReturnType<typeof benchPool>, schema: string, key: string): Promise<void> {
  const c = await checkTable(pool, schema, n)
  if (!c.ok) throw new Error(`${key}: table check failed: rows ${c.rows}, distinct ids ${c.distinct}, ids ${c.min}..${c.max} (expected ${n}, ${n}, 0..${n - 1})`)
}

function report(results: readonly Result[]): void {
  const copy = results.find((r) => r.key === 'copy')
  const get = (k: string): Result | undefined => results.find((r) => r.key === k)
  console.log(`\n${repeat > 1 ? `best of ${repeat} runs; ` : ''}N = ${fmt(n)}`)
  console.log('| scenario | seconds (spawn to exit) | records/s | steady records/s | time vs raw COPY | startup s | startup CPU s | peak RSS | sluice CPU s | load avg |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const ratio = copy && r !== copy ? `${(r.seconds / copy.seconds).toFixed(2)}x` : '1.00x'
    console.log(`| ${r.name} | ${r.seconds.toFixed(2)} | ${fmt(r.rate)} | ${r.steadyRate ? fmt(r.steadyRate) : '-'} | ${copy ? ratio : '-'} | ${r.startupSeconds === null ? '-' : r.startupSeconds.toFixed(2)} | ${r.startupCpuSeconds === null ? '-' : r.startupCpuSeconds.toFixed(2)} | ${r.peakRssMb ? `${r.peakRssMb.toFixed(0)} MiB` : '-'} | ${r.cpuSeconds ? r.cpuSeconds.toFixed(1) : '-'} | ${r.load.toFixed(1)} |`)
  }
  const eo = get('eo-append')
  const alo = get('alo-append')
  if (eo && alo) {
    console.log(`\nexactly-once overhead vs at-least-once (append): ${(((eo.seconds / alo.seconds) - 1) * 100).toFixed(1)}% (time)`)
    if (eo.steadyRate && alo.steadyRate) console.log(`  steady-state: ${(((alo.steadyRate / eo.steadyRate) - 1) * 100).toFixed(1)}%`)
  }
  if (eo && copy) console.log(`exactly-once append vs raw COPY: ${(eo.seconds / copy.seconds).toFixed(2)}x the time (target <= 2x); ${fmt(eo.rate)} records/s (target >= 150,000)`)
  for (const k of ['eo-window-append', 'eo-dedup']) {
    const r = get(k)
    if (r && eo) console.log(`${r.name} vs exactly-once append: ${(r.seconds / eo.seconds).toFixed(2)}x the time, peak RSS ${r.peakRssMb?.toFixed(0) ?? '-'} vs ${eo.peakRssMb?.toFixed(0) ?? '-'} MiB`)
  }
  const up = get('eo-upsert')
  const change = get('eo-cdc')
  if (change && up) console.log(`${change.name} vs exactly-once upsert: ${(change.seconds / up.seconds).toFixed(2)}x the time, CPU ${change.cpuSeconds?.toFixed(1) ?? '-'} vs ${up.cpuSeconds?.toFixed(1) ?? '-'} s, peak RSS ${change.peakRssMb?.toFixed(0) ?? '-'} vs ${up.peakRssMb?.toFixed(0) ?? '-'} MiB`)
  if (change && copy) console.log(`${change.name} vs raw COPY: ${(change.seconds / copy.seconds).toFixed(2)}x the time`)
  if (args.json) console.log(JSON.stringify({ n, partitions, results }))
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
