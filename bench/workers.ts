/**
 * The scale-out benchmark (issue 11): one pipeline started as N `sluice run` processes that share
 * a topic's partitions through the Kafka consumer group (triggerMode continuous, so groupMembership
 * is on by default), as docs/design/scale-out.md and the README's "Scaling out" describe.
 *
 * For each worker count: a fresh schema, N workers of the same pipeline file (same pipelineId, same
 * checkpointLocation), timed from the first spawn until batch_tracker's record_count adds up to the
 * topic's N records (a tiny table, so the polling does not load the machine like count(*) would);
 * then the table is checked (N rows, N distinct ids, ids 0..N-1), batch ids are checked for gaps
 * with the seed's gap query (ops/sql/monitoring.sql), the workers get SIGTERM and must exit 0.
 * CPU seconds of every worker are read from /proc just before the SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { dirname, join } from 'node:path'
import { loadavg } from 'node:os'
import type pg from 'pg'
import { cli, cpuSecondsOf, pipelineFile, probe } from './sluice.ts'

/** What one worker count measured. */
export interface WorkersMeasure {
  readonly workers: number
  /** First spawn to the last record committed. */
  readonly seconds: number
  /** First committed record to the last one (start-up and the group's first join left out). */
  readonly steadySeconds: number | null
  readonly steadyRecords: number
  /**
   * Records committed after the group's last assignment change (every worker has its final
   * partitions), over the time from that change to the last commit: the rate without start-up and
   * rebalances; null when fewer than two commits followed it.
   */
  readonly settledRate: number | null
  /** Batches committed, over all workers. */
  readonly batches: number
  /** Workers that committed at least one batch. */
  readonly committers: number
  /** Partitions each worker owned at the end (its last "consumer group assignment" line). */
  readonly owned: readonly number[]
  /** "batch fenced by another worker" lines over all workers (a rebalance moved a batch in flight). */
  readonly fenced: number
  /** User + system CPU seconds of all workers together. */
  readonly cpuSeconds: number
  readonly load: number
}

interface Worker {
  readonly child: ChildProcess
  output: string
  /** The worker's log lines as they come (worker-<i>.log beside the pipeline file), for a run that stalls. */
  readonly log: WriteStream
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function startWorker(file: string, index: number): Worker {
  const child = spawn(process.execPath, ['--import', probe, cli, 'run', file], {
    env: { ...process.env, SLUICE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const w: Worker = {
    child,
    output: '',
    log: createWriteStream(join(dirname(file), `worker-${index}.log`)),
    exit: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))),
  }
  // Logs go to stdout without --json; both streams are kept for the counts and for a failure's tail.
  const take = (d: Buffer): void => {
    w.output += d.toString()
    w.log.write(d)
  }
  child.stdout?.on('data', take)
  child.stderr?.on('data', take)
  child.on('close', () => w.log.end())
  return w
}

/** Records the pipeline's committed batches cover (batch_tracker.record_count summed). */
async function committedRecords(pool: pg.Pool, schema: string, pipelineId: string): Promise<number> {
  const exists = await pool.query<{ t: string | null }>(`SELECT to_regclass('"${schema}".batch_tracker')::text AS t`)
  if (exists.rows[0]?.t === null) return 0
  const r = await pool.query<{ n: string }>(`SELECT COALESCE(SUM(record_count), 0)::text AS n FROM "${schema}".batch_tracker WHERE pipeline_id = $1`, [pipelineId])
  return Number(r.rows[0]?.n ?? 0)
}

/** The seed's gap query: batch ids that do not follow their predecessor (none in a healthy run), and the first id. */
async function batchIdGaps(pool: pg.Pool, schema: string, pipelineId: string): Promise<{ gaps: number; first: number; count: number }> {
  const r = await pool.query<{ gaps: string; first: string | null; n: string }>(
    `SELECT count(*) FILTER (WHERE prev IS NOT NULL AND batch_id <> prev + 1)::text AS gaps, min(batch_id)::text AS first, count(*)::text AS n
     FROM (SELECT batch_id, LAG(batch_id) OVER (ORDER BY batch_id) AS prev FROM "${schema}".batch_tracker WHERE pipeline_id = $1) t`,
    [pipelineId],
  )
  const row = r.rows[0]
  return { gaps: Number(row?.gaps ?? 0), first: Number(row?.first ?? -1), count: Number(row?.n ?? 0) }
}

/** The JSON log lines of a worker with their time (pino's time is an ISO string or epoch ms). */
function logLines(output: string): Array<{ msg: string; time: number; records: number }> {
  const out: Array<{ msg: string; time: number; records: number }> = []
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const j = JSON.parse(line) as { msg?: string; time?: string | number; records?: number }
      const time = typeof j.time === 'string' ? Date.parse(j.time) : j.time
      if (j.msg !== undefined && time !== undefined && !Number.isNaN(time)) out.push({ msg: j.msg, time, records: j.records ?? 0 })
    } catch {
      // not a log line
    }
  }
  return out
}

/** Records per second committed after the last assignment change of any worker, to the last commit. */
function settledRate(outputs: readonly string[]): number | null {
  const lines = outputs.flatMap(logLines)
  const settled = Math.max(...lines.filter((l) => l.msg === 'consumer group assignment').map((l) => l.time))
  const after = lines.filter((l) => l.msg === 'batch committed' && l.time > settled)
  if (!Number.isFinite(settled) || after.length < 2) return null
  const last = Math.max(...after.map((l) => l.time))
  return last > settled ? after.reduce((a, l) => a + l.records, 0) / ((last - settled) / 1000) : null
}

function countLines(output: string, msg: string): number {
  return output.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length
}

/** Partitions in the worker's last assignment line (0 when it never got one). */
function lastOwned(output: string): number {
  const lines = output.split('\n').filter((l) => l.includes('"msg":"consumer group assignment"'))
  const last = lines[lines.length - 1]
  if (last === undefined) return 0
  return ((JSON.parse(last) as { owned?: unknown[] }).owned ?? []).length
}

/** Runs `workers` processes of one continuous pipeline over `topic` until all `n` records committed. */
export async function runWorkers(
  pool: pg.Pool,
  topic: string,
  schema: string,
  n: number,
  workers: number,
  options: { maxOffsets?: number; maxBytes?: string; kafkaParams?: Readonly<Record<string, string>>; timeoutMs: number },
): Promise<WorkersMeasure> {
  const pipelineId = `bench-${schema}`
  const scenario = { name: `${workers} worker(s)`, writeMode: 'append' as const, exactlyOnce: true }
  // Every worker gets the same file: same pipelineId, same group, same checkpointLocation.
  const file = await pipelineFile(scenario, topic, schema, options.maxOffsets, options.maxBytes, options.kafkaParams ?? {}, 'continuous')
  const load0 = loadavg()[0] ?? 0
  const started = performance.now()
  const procs = Array.from({ length: workers }, (_, i) => startWorker(file, i))
  console.log(`  ${workers} worker(s): logs in ${dirname(file)}/worker-*.log`)
  let firstAt: number | null = null
  let firstRecords = 0
  let done = 0
  try {
    const deadline = started + options.timeoutMs
    for (;;) {
      done = await committedRecords(pool, schema, pipelineId)
      const now = performance.now()
      if (done > 0 && firstAt === null) {
        firstAt = now
        firstRecords = done
      }
      if (done >= n) break
      const ended = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null)
      if (ended) throw new Error(`a worker ended early (${ended.child.exitCode ?? ended.child.signalCode}) with ${done} of ${n} records committed:\n${ended.output.slice(-3000)}`)
      if (now > deadline) throw new Error(`${done} of ${n} records committed after ${options.timeoutMs} ms (worker logs in ${dirname(file)})`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (err) {
    for (const p of procs) p.child.kill('SIGKILL')
    await Promise.all(procs.map((p) => p.exit))
    throw err
  }
  const ended = performance.now()
  const cpu = await Promise.all(procs.map((p) => (p.child.pid === undefined ? null : cpuSecondsOf(p.child.pid))))
  const load = Math.max(load0, loadavg()[0] ?? 0)
  for (const p of procs) p.child.kill('SIGTERM')
  const exits = await Promise.all(procs.map((p) => p.exit))
  const bad = exits.findIndex((e) => e.code !== 0)
  if (bad >= 0) throw new Error(`worker ${bad} exited with ${exits[bad]?.code ?? exits[bad]?.signal} after SIGTERM:\n${procs[bad]?.output.slice(-3000)}`)
  if (done !== n) throw new Error(`batch_tracker counts ${done} records, expected ${n}`)
  const ids = await batchIdGaps(pool, schema, pipelineId)
  if (ids.gaps !== 0 || ids.first !== 0) throw new Error(`batch ids: ${ids.gaps} gap(s), first id ${ids.first} (expected none, 0)`)
  const batches = procs.map((p) => countLines(p.output, 'batch committed'))
  return {
    workers,
    seconds: (ended - started) / 1000,
    steadySeconds: firstAt === null || firstRecords >= n ? null : (ended - firstAt) / 1000,
    steadyRecords: n - firstRecords,
    settledRate: settledRate(procs.map((p) => p.output)),
    batches: ids.count,
    committers: batches.filter((b) => b > 0).length,
    owned: procs.map((p) => lastOwned(p.output)),
    fenced: procs.reduce((a, p) => a + countLines(p.output, 'batch fenced by another worker; resuming the owned partitions from the database'), 0),
    cpuSeconds: cpu.reduce<number>((a, c) => a + (c ?? 0), 0),
    load,
  }
}
