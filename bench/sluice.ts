/**
 * Runs one pipeline through the real CLI in a child process (`node src/cli/main.ts run --json`),
 * as an operator would, and measures it from outside: wall time from spawn to exit (startup
 * included), the steady batch rate from the per-batch log lines, and peak RSS (VmHWM polled from
 * /proc, plus maxRSS printed by the preloaded rss-probe.ts at exit).
 */
import { spawn } from 'node:child_process'
import { readFile, writeFile, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import type { EventShape } from './events.ts'
import { bootstrap } from './produce.ts'
import { pgEnv } from './pg.ts'

/** The CLI under test: bin/sluice.js, the command an operator runs; SLUICE_BENCH_CLI points at another checkout (e.g. to compare before/after a change). */
export const cli = process.env.SLUICE_BENCH_CLI ?? fileURLToPath(new URL('../bin/sluice.js', import.meta.url))
export const probe = fileURLToPath(new URL('./rss-probe.ts', import.meta.url))

/** One scenario's pipeline knobs. */
export interface Scenario {
  readonly name: string
  readonly writeMode: 'append' | 'upsert'
  readonly exactlyOnce: boolean
  /** Kafka connectionParams of this scenario (over --kafka). */
  readonly kafkaParams?: Readonly<Record<string, string>>
  /** The events it reads (a topic per shape); default the plain ones. */
  readonly shape?: EventShape
  /** Pipeline parts beyond a plain load into `events` (the stateful scenarios). */
  readonly pipeline?: PipelineExtras
  /** Checks the run's tables and returns what it checked; default: `events` holds ids 0..N-1 once each. */
  readonly verify?: (pool: pg.Pool, schema: string, n: number, m: RunMeasure, partitions: number) => Promise<string>
}

/** What a scenario adds to the pipeline file. */
export interface PipelineExtras {
  /** Extract options beside sourceType, topic and connectionParams (e.g. `envelope: "debezium"`). */
  readonly extract?: Readonly<Record<string, unknown>>
  readonly transform?: readonly Readonly<Record<string, unknown>>[]
  /** A target table Sluice creates from a load schema of these column types (written to schemaDir); default `events`, made by the bench. */
  readonly table?: { readonly name: string; readonly columns: Readonly<Record<string, string>> }
  /** streamingConfigJson keys (outputMode, watermark, lateDataConfig). */
  readonly streaming?: Readonly<Record<string, unknown>>
}

/** What one run measured. */
export interface RunMeasure {
  readonly wallSeconds: number
  /** From the first log line of the query ("query resumed") to exit. */
  readonly querySeconds: number | null
  /** Records of batches 2..n over the time between the first and last commit (null with one batch). */
  readonly steadyRate: number | null
  readonly batches: number
  readonly records: number
  /** Records the batches counted as filtered (duplicates) and as late, from their log lines. */
  readonly filtered: number
  readonly late: number
  readonly peakRssKb: number
  /** User + system CPU seconds of the sluice process (less sensitive to a busy machine than wall time). */
  readonly cpuSeconds: number
  /** CPU seconds up to the "query resumed" line (start-up work), or null when not seen. */
  readonly startupCpuSeconds: number | null
  readonly exitCode: number | null
  readonly stderrTail: string
}

/** Writes the pipeline JSON for a scenario (trigger availablenow unless `triggerMode` says otherwise: the workers bench runs continuous). */
export async function pipelineFile(s: Scenario, topic: string, schema: string, maxOffsets: number | undefined, maxBytes: string | undefined, kafkaParams: Readonly<Record<string, string>>, triggerMode = 'availablenow'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'))
  const extras = s.pipeline ?? {}
  if (extras.table) await writeFile(join(dir, `${extras.table.name}.json`), JSON.stringify({ columns: extras.table.columns }))
  const config = {
    pipelineId: `bench-${schema}`,
    name: `benchmark ${s.name}`,
    mode: 'streaming',
    extract: {
      sourceType: 'kafka',
      topic,
      ...extras.extract,
      connectionParams: {
        'kafka.bootstrap.servers': bootstrap.join(','),
        startingOffsets: 'earliest',
        ...(maxOffsets ? { maxOffsetsPerTrigger: maxOffsets } : {}),
        ...(maxBytes ? { maxBytesPerTrigger: maxBytes } : {}),
        ...kafkaParams,
      },
    },
    ...(extras.transform ? { transform: extras.transform } : {}),
    load: {
      sinkType: 'postgresql',
      table: extras.table?.name ?? 'events',
      ...(extras.table ? { schemaName: extras.table.name } : {}),
      writeMode: s.writeMode,
      ...(s.writeMode === 'upsert' ? { upsertKeys: ['id'] } : {}),
      connectionParams: { host: pgEnv.host, port: pgEnv.port, database: pgEnv.database, user: pgEnv.user, currentSchema: schema },
    },
    ...(extras.table ? { schemaDir: dir } : {}),
    streamingConfigJson: {
      checkpointLocation: join(dir, 'checkpoint'),
      queryName: 'bench',
      triggerMode,
      enableIdempotence: s.exactlyOnce,
      ...extras.streaming,
    },
  }
  const file = join(dir, 'pipeline.json')
  await writeFile(file, JSON.stringify(config, null, 2))
  return file
}

/** User + system CPU seconds of a running process so far (/proc/PID/stat; Linux clock ticks of 10 ms). */
export async function cpuSecondsOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

async function vmHwmKb(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const m = /VmHWM:\s+(\d+) kB/.exec(status)
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

/** Runs the scenario's pipeline to exit; `nodeFlags` go to the child's node (e.g. --cpu-prof). */
export async function runSluice(s: Scenario, topic: string, schema: string, options: { maxOffsets?: number; maxBytes?: string; nodeFlags?: readonly string[]; kafkaParams?: Readonly<Record<string, string>>; timeoutMs?: number } = {}): Promise<RunMeasure> {
  const file = await pipelineFile(s, topic, schema, options.maxOffsets, options.maxBytes, options.kafkaParams ?? {})
  const started = performance.now()
  const startedEpoch = Date.now()
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', probe, cli, 'run', file, '--json'], {
    env: { ...process.env, SLUICE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stdout.resume()
  // The CPU the child spent up to its "query resumed" line (start-up work; wall time is only
  // comparable on a quiet machine, CPU time much less disturbed by other work).
  let startupCpu: Promise<number | null> = Promise.resolve(null)
  let resumedSeen = false
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (!resumedSeen && child.pid !== undefined && stderr.includes('"msg":"query resumed"')) {
      resumedSeen = true
      startupCpu = cpuSecondsOf(child.pid)
    }
  })
  let hwm = 0
  const poll = setInterval(() => {
    if (child.pid !== undefined) void vmHwmKb(child.pid).then((kb) => (hwm = Math.max(hwm, kb)))
  }, 100)
  // A run that does not finish in time is killed and reported, never waited for forever.
  const timeoutMs = options.timeoutMs ?? 600_000
  let timedOut = false
  const killer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  clearTimeout(killer)
  clearInterval(poll)
  if (exitCode !== 0 || timedOut) {
    const log = join(dirname(file), 'sluice.log')
    await writeFile(log, stderr)
    stderr += `\n[bench] ${timedOut ? `killed after ${timeoutMs} ms` : `exit code ${exitCode}`}; full log in ${log}\n`
  }
  const wallSeconds = (performance.now() - started) / 1000
  const endedEpoch = startedEpoch + wallSeconds * 1000

  let probeKb = 0
  let cpuUs = 0
  let resumedAt: number | null = null
  const commits: { time: number; records: number; durationMs: number; filtered: number; late: number }[] = []
  for (const line of stderr.split('\n')) {
    const m = /^SLUICE_BENCH_MAXRSS_KB (\d+)$/.exec(line)
    if (m) probeKb = Number(m[1])
    const c = /^SLUICE_BENCH_CPU_US (\d+)$/.exec(line)
    if (c) cpuUs = Number(c[1])
    if (!line.startsWith('{')) continue
    let rec: { msg?: string; time?: number | string; records?: number; durationMs?: number; filtered?: number; late?: number }
    try {
      rec = JSON.parse(line) as typeof rec
    } catch {
      continue
    }
    // pino's time is epoch ms or an ISO string depending on the logger's timestamp setting.
    const time = typeof rec.time === 'string' ? Date.parse(rec.time) : rec.time
    if (time === undefined || Number.isNaN(time)) continue
    if (rec.msg === 'query resumed') resumedAt = time
    if (rec.msg === 'batch committed') commits.push({ time, records: rec.records ?? 0, durationMs: rec.durationMs ?? 0, filtered: rec.filtered ?? 0, late: rec.late ?? 0 })
  }
  let steadyRate: number | null = null
  const first = commits[0]
  const last = commits[commits.length - 1]
  if (first && last && commits.length > 1 && last.time > first.time) {
    const records = commits.slice(1).reduce((a, c) => a + c.records, 0)
    steadyRate = records / ((last.time - first.time) / 1000)
  }
  return {
    wallSeconds,
    querySeconds: resumedAt === null ? null : (endedEpoch - resumedAt) / 1000,
    steadyRate,
    batches: commits.length,
    records: commits.reduce((a, c) => a + c.records, 0),
    filtered: commits.reduce((a, c) => a + c.filtered, 0),
    late: commits.reduce((a, c) => a + c.late, 0),
    peakRssKb: Math.max(hwm, probeKb),
    cpuSeconds: cpuUs / 1e6,
    startupCpuSeconds: await startupCpu,
    exitCode,
    stderrTail: stderr.slice(-3000),
  }
}
