/**
 * PostgreSQL side of the benchmark: a fresh schema per scenario, the correctness check after
 * each run, and the raw-COPY baseline through `psql \copy` (the server-side COPY path with no
 * Sluice in front of it).
 */
import { spawn } from 'node:child_process'
import pg from 'pg'
import { tableDdl } from './events.ts'

/** libpq-style settings, defaulting to the project's test database. */
export const pgEnv = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
}

/** A small pool for set-up and checks (the pipeline under test uses its own connections). */
export function benchPool(): pg.Pool {
  const pool = new pg.Pool({ ...pgEnv, ...(process.env.PGPASSWORD ? { password: process.env.PGPASSWORD } : {}), max: 2 })
  // An idle client whose backend is terminated (another suite's pg_terminate_backend on a shared
  // server) is an 'error' event that would crash the bench; the pool drops it and connects anew.
  pool.on('error', (err) => console.error(`[bench] idle PostgreSQL connection lost: ${err.message}`))
  return pool
}

/**
 * Creates `schema` with the `events` table (primary key on id when `pk`; none when `events` is
 * false: the pipeline creates its own table); flushes dirty pages first so runs start alike.
 */
export async function freshSchema(pool: pg.Pool, schema: string, pk: boolean, events = true): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await pool.query(`CREATE SCHEMA "${schema}"`)
  if (events) await pool.query(tableDdl(`"${schema}".events`, pk))
  await pool.query('CHECKPOINT').catch(() => {})
}

/** Drops a scenario's schema. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
}

/** Row count, distinct ids and id range of the scenario's table. */
export interface TableCheck {
  readonly rows: number
  readonly distinct: number
  readonly min: number
  readonly max: number
}

/** Reads the check figures; `ok` when the table holds ids 0..n-1 exactly once. */
export async function checkTable(pool: pg.Pool, schema: string, n: number): Promise<TableCheck & { ok: boolean }> {
  const { rows } = await pool.query<{ n: string; d: string; min: string | null; max: string | null }>(
    `SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS min, max(id) AS max FROM "${schema}".events`,
  )
  const r = rows[0] as { n: string; d: string; min: string | null; max: string | null }
  const c = { rows: Number(r.n), distinct: Number(r.d), min: Number(r.min ?? -1), max: Number(r.max ?? -1) }
  return { ...c, ok: c.rows === n && c.distinct === n && c.min === 0 && c.max === n - 1 }
}

/** The records the committed batches of the scenario's pipeline counted (`sum(record_count)` in batch_tracker). */
export async function trackedRecords(pool: pg.Pool, schema: string): Promise<number> {
  const { rows } = await pool.query<{ n: string | null }>(`SELECT sum(record_count)::text AS n FROM "${schema}".batch_tracker`)
  return Number(rows[0]?.n ?? 0)
}

/** Loads `file` (COPY text) into the scenario's table with `psql \copy`; returns the wall seconds of the psql process. */
export async function psqlCopy(schema: string, file: string, columns: readonly string[]): Promise<number> {
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'psql',
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pgEnv.host, '-p', String(pgEnv.port), '-U', pgEnv.user, '-d', pgEnv.database,
        '-c', `\\copy "${schema}".events (${columns.join(', ')}) FROM '${file}'`],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    )
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited with ${code}`))))
  })
  return (performance.now() - started) / 1000
}
