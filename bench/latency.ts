/**
 * Continuous trigger, end to end (issue 13): one `sluice run` (triggerMode continuous, exactly-once
 * append) reads a fresh topic while this process produces to it at a fixed rate for a fixed time.
 * A record's latency is from the moment its send began to the moment its batch's commit is
 * visible: a poller reads sluice_source_positions every POLL_MS (committed with the rows, so a
 * position past an offset means that record's row is committed), and every offset below a new
 * position counts as visible then. The producer writes one partition's records in order with an
 * idempotent producer, so offset k of a partition is the k-th record sent to it.
 *
 * Reported per rate: the rate reached, p50 / p99 / max latency (the poll adds up to POLL_MS),
 * batches committed, the sluice process's CPU seconds after start-up and CPU per batch (at a low rate nearly all of
 * it is the fixed cost of a batch), and the load average. Every run is verified before it is
 * printed: the table holds ids 0..N-1 once each.
 */
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { Admin, Producer } from '@platformatic/kafka'
import type pg from 'pg'
import { eventJson } from './events.ts'
import { bootstrap, createTopic } from './produce.ts'
import { checkTable, dropSchema, freshSchema } from './pg.ts'
import { cli, cpuSecondsOf, pipelineFile } from './sluice.ts'

/** How often the committed positions are read (the latency figures carry up to this much error). */
const POLL_MS = 5

export interface LatencyMeasure {
  readonly targetRate: number
  readonly records: number
  readonly producedRate: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly batches: number
  readonly cpuSeconds: number
  readonly cpuMsPerBatch: number
  readonly load: number
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
}

/** Committed next offset per partition number (positions keyed `${topic}/${partition}`). */
async function committedOffsets(pool: pg.Pool, schema: string): Promise<Map<number, number>> {
  const r = await pool.query<{ partition_key: string; position: string }>(`SELECT partition_key, position FROM "${schema}".sluice_source_positions`).catch(() => ({ rows: [] }))
  const out = new Map<number, number>()
  for (const row of r.rows) out.set(Number(row.partition_key.slice(row.partition_key.lastIndexOf('/') + 1)), Number(row.position))
  return out
}

/** Produces `rate` records/s for `seconds` in 10 ms slices; returns each partition's send times by offset. */
async function producePaced(topic: string, partitions: number, rate: number, seconds: number): Promise<{ sent: number[][]; seconds: number }> {
  const producer = new Producer({ clientId: 'sluice-bench-latency', bootstrapBrokers: bootstrap, acks: -1, retries: 5, idempotent: true })
  const sent: number[][] = Array.from({ length: partitions }, () => [])
  const total = Math.round(rate * seconds)
  const started = performance.now()
  const inFlight = new Set<Promise<unknown>>()
  try {
    let i = 0
    while (i < total) {
      // Records due by now (a slow slice is caught up in the next one, so the mean rate holds).
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate))
      if (due > i) {
        const messages = []
        const at = performance.timeOrigin + performance.now()
        for (; i < due; i++) {
          const partition = i % partitions
          sent[partition]?.push(at)
          messages.push({ topic, key: Buffer.from(String(i)), value: Buffer.from(eventJson(i)), partition })
        }
        const p: Promise<unknown> = producer.send({ messages, compression: 'none' }).finally(() => inFlight.delete(p))
        inFlight.add(p)
        // At most 5 requests in flight (idempotence); waiting here only delays the next slice.
        if (inFlight.size >= 5) await Promise.race(inFlight)
      }
      await new Promise((r) => setTimeout(r, 10))
    }
    await Promise.all(inFlight)
  } finally {
    await producer.close()
  }
  return { sent, seconds: (performance.now() - started) / 1000 }
}

/** One continuous run at `rate` records/s for `seconds`, into a fresh schema and topic. */
export async function runLatency(pool: pg.Pool, rate: number, seconds: number, partitions: number, stamp: string, nodeFlags: readonly string[] = []): Promise<LatencyMeasure> {
  const schema = `bench_lat_${stamp}_${rate}`
  const topic = `sluice-bench-latency-${stamp}-${rate}`
  await createTopic(topic, partitions)
  await freshSchema(pool, schema, false)
  const file = await pipelineFile({ name: 'continuous latency', writeMode: 'append', exactlyOnce: true }, topic, schema, undefined, undefined, {}, 'continuous')
  const child = spawn(process.execPath, [...nodeFlags, cli, 'run', file, '--json'], { env: { ...process.env, SLUICE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  try {
    const deadline = Date.now() + 30_000
    while (!stderr.includes('"msg":"query resumed"')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sluice did not start:\n${stderr.slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const load = loadavg()[0] ?? 0
    // Start-up CPU is not a batch's: counted from here.
    const cpuAtStart = (child.pid === undefined ? null : await cpuSecondsOf(child.pid)) ?? 0
    const total = Math.round(rate * seconds)
    const latencies = new Float64Array(total)
    let seen = 0
    const visible = new Map<number, number>()
    let sent: number[][] | null = null
    const pending: { partition: number; from: number; to: number; at: number }[] = []
    // Poll from the start: positions that move while the producer still runs are timed when seen.
    let polling = true
    const poller = (async () => {
      while (polling) {
        const now = performance.timeOrigin + performance.now()
        for (const [partition, offset] of await committedOffsets(pool, schema)) {
          const from = visible.get(partition) ?? 0
          if (offset > from) {
            pending.push({ partition, from, to: offset, at: now })
            visible.set(partition, offset)
          }
        }
        await new Promise((r) => setTimeout(r, POLL_MS))
      }
    })()
    const produced = await producePaced(topic, partitions, rate, seconds)
    sent = produced.sent
    const caughtUp = Date.now() + 120_000
    while ([...Array(partitions).keys()].some((p) => (visible.get(p) ?? 0) < (sent?.[p]?.length ?? 0))) {
      if (Date.now() > caughtUp || child.exitCode !== null) throw new Error(`sluice did not catch up:\n${stderr.slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    polling = false
    await poller
    for (const seg of pending) {
      const times = sent[seg.partition] ?? []
      for (let k = seg.from; k < seg.to; k++) latencies[seen++] = seg.at - (times[k] ?? seg.at)
    }
    const cpuSeconds = ((child.pid === undefined ? null : await cpuSecondsOf(child.pid)) ?? 0) - cpuAtStart
    child.kill('SIGTERM')
    const code = await exited
    if (code !== 0) throw new Error(`sluice exited with ${code} after SIGTERM:\n${stderr.slice(-2000)}`)
    const check = await checkTable(pool, schema, total)
    if (!check.ok || seen !== total) throw new Error(`continuous ${rate}/s: table check failed (${JSON.stringify(check)}, ${seen} latencies for ${total} records)`)
    const batches = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".batch_tracker`)).rows[0]?.n)
    const sorted = latencies.sort()
    return {
      targetRate: rate,
      records: total,
      producedRate: total / produced.seconds,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
      maxMs: sorted[sorted.length - 1] ?? 0,
      batches,
      cpuSeconds,
      cpuMsPerBatch: batches > 0 ? (cpuSeconds * 1000) / batches : 0,
      load: Math.max(load, loadavg()[0] ?? 0),
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await dropSchema(pool, schema)
    const admin = new Admin({ clientId: 'sluice-bench-latency', bootstrapBrokers: bootstrap, retries: 3 })
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.close()
  }
}
