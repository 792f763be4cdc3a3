/**
 * What the batch-id lock of a shared pipeline costs (docs/design/scale-out.md): the commits of one
 * pipeline serialise on its sluice_pipeline_state row from the moment the batch id is taken (the dead
 * letters, or the end of the work) to COMMIT. This measures, on the real PostgreSQL store:
 *
 *   raw      one client, N transactions that each UPDATE one row (the floor of any commit here)
 *   shared   K stores (K connections, as K workers) committing empty batches of ONE shared
 *            pipeline, each on its own partition, for D seconds: commits/s and the time of the
 *            tail (batch id taken -> COMMIT acknowledged), the part that holds the row lock
 *   separate K stores committing empty batches of K DIFFERENT shared pipelines (no common row):
 *            the same work without the shared lock, to tell the lock from the machine's limits
 *
 *   node bench/commit-tail.ts [--clients 1,2,3] [--seconds 5] [--raw 2000]
 *
 * Uses the PG* variables (default 127.0.0.1:5432 postgres/test) and a schema of its own, dropped at the end.
 */
import { parseArgs } from 'node:util'
import { loadavg } from 'node:os'
import pg from 'pg'
import { PostgresStore } from '../src/components/sinks/postgres/store.ts'
import { pgLoadConfig, testContext } from '../src/components/sinks/postgres/testing.ts'
import type { BatchMark } from '../src/api/store.ts'
import { pgEnv } from './pg.ts'

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,2,3' },
    seconds: { type: 'string', default: '5' },
    raw: { type: 'string', default: '2000' },
  },
})
const clients = (args.clients ?? '1').split(',').map(Number)
const seconds = Number(args.seconds)
const schema = `scaledocs_tail_${Date.now().toString(36)}`

/** Percentile of sorted numbers. */
function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

async function raw(pool: pg.Pool, n: number): Promise<void> {
  const c = await pool.connect()
  try {
    await c.query(`CREATE TABLE "${schema}".one (id int PRIMARY KEY, v bigint)`)
    await c.query(`INSERT INTO "${schema}".one VALUES (1, 0)`)
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      await c.query('BEGIN')
      await c.query(`UPDATE "${schema}".one SET v = v + 1 WHERE id = 1`)
      await c.query('COMMIT')
    }
    const s = (performance.now() - t0) / 1000
    console.log(`raw: ${n} transactions (BEGIN; UPDATE one row; COMMIT) from one client in ${s.toFixed(2)} s: ${Math.round(n / s)}/s, ${((s / n) * 1000).toFixed(3)} ms each`)
  } finally {
    c.release()
  }
}

/** One worker's loop: empty shared batches on its own partition until `until`; returns tail and total times (ms). */
async function worker(store: PostgresStore, pipelineId: string, partition: string, until: number): Promise<{ tails: number[]; totals: number[] }> {
  const tails: number[] = []
  const totals: number[] = []
  let at = 0
  while (performance.now() < until) {
    const mark: BatchMark = {
      pipelineId,
      batchId: 0,
      exactlyOnce: true,
      recordCount: 1,
      start: at === 0 ? {} : { [partition]: String(at) },
      end: { [partition]: String(at + 1) },
      nextWatermarkMs: null,
      checkpointLocation: null,
      shared: true,
    }
    const t0 = performance.now()
    let tailFrom = 0
    const out = await store.commit(mark, async (_tx, batchId) => {
      // Where the engine takes the id of a batch with dead letters; without them the store takes it right after the work: same lock span.
      tailFrom = performance.now()
      await batchId()
      return null
    })
    const t1 = performance.now()
    if (out.status !== 'committed') throw new Error(`${pipelineId} ${partition}@${at}: ${out.status}`)
    tails.push(t1 - tailFrom)
    totals.push(t1 - t0)
    at++
  }
  return { tails, totals }
}

async function run(k: number, sharedPipeline: boolean): Promise<void> {
  const stores = Array.from({ length: k }, () => new PostgresStore(pgLoadConfig(schema), testContext()))
  const tag = `${sharedPipeline ? 'shared' : 'separate'}-${k}-${Date.now().toString(36)}`
  try {
    for (const s of stores) await s.open(AbortSignal.timeout(10_000))
    const load0 = loadavg()[0] ?? 0
    const t0 = performance.now()
    const until = t0 + seconds * 1000
    const results = await Promise.all(stores.map((s, i) => worker(s, sharedPipeline ? tag : `${tag}-${i}`, `p/${i}`, until)))
    const s = (performance.now() - t0) / 1000
    const tails = results.flatMap((r) => r.tails).sort((a, b) => a - b)
    const totals = results.flatMap((r) => r.totals).sort((a, b) => a - b)
    const commits = totals.length
    const meanTail = tails.reduce((a, b) => a + b, 0) / Math.max(1, tails.length)
    console.log(
      `${sharedPipeline ? 'shared  ' : 'separate'} ${k} client(s): ${commits} commits in ${s.toFixed(2)} s = ${Math.round(commits / s)}/s; ` +
        `commit p50 ${pct(totals, 50).toFixed(2)} ms p99 ${pct(totals, 99).toFixed(2)} ms; tail (id -> COMMIT) mean ${meanTail.toFixed(2)} ms p50 ${pct(tails, 50).toFixed(2)} p99 ${pct(tails, 99).toFixed(2)} ms ` +
        `(1/mean tail = ${Math.round(1000 / meanTail)}/s); load ${Math.max(load0, loadavg()[0] ?? 0).toFixed(1)}`,
    )
  } finally {
    for (const st of stores) await st.close()
  }
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ ...pgEnv, ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}), max: 2 })
  try {
    const settings = await pool.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'server_version')`)
    console.log(`PostgreSQL: ${settings.rows.map((r) => `${r.name}=${r.setting}`).join(', ')}`)
    await pool.query(`CREATE SCHEMA "${schema}"`)
    await raw(pool, Number(args.raw))
    for (const k of clients) {
      await run(k, true)
      if (k > 1) await run(k, false)
    }
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {})
    await pool.end()
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err)
  process.exitCode = 1
})
