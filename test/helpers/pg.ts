/**
 * PostgreSQL helpers for integration tests: every test gets its own schema, so runs never see
 * each other's rows. Connection from the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE,
 * PGPASSWORD), defaulting to 127.0.0.1:5432, user postgres, database test.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export interface PgSettings {
  host: string
  port: number
  user: string
  database: string
  password: string | undefined
}

/** Connection settings from the environment, with the test defaults. */
export function pgSettings(env: Readonly<Record<string, string | undefined>> = process.env): PgSettings {
  return {
    host: env.PGHOST ?? '127.0.0.1',
    port: Number(env.PGPORT ?? 5432),
    user: env.PGUSER ?? 'postgres',
    database: env.PGDATABASE ?? 'test',
    password: env.PGPASSWORD,
  }
}

/** A connection URL for the settings; with `schema`, its connections default to that search_path. */
export function pgUrl(s: PgSettings = pgSettings(), schema?: string): string {
  const auth = encodeURIComponent(s.user) + (s.password === undefined ? '' : `:${encodeURIComponent(s.password)}`)
  const base = `postgres://${auth}@${s.host}:${s.port}/${encodeURIComponent(s.database)}`
  return schema === undefined ? base : `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`
}

export interface TestSchema {
  /** Schema name: lower case letters, digits and `_` only, so it never needs quoting. */
  schema: string
  /** A pool whose connections use `schema` as search_path. */
  pool: pg.Pool
  /** URL with the same search_path, for code under test that opens its own connections. */
  url: string
  /** Drops the schema (cascade) and ends the pool. */
  drop(): Promise<void>
}

/** Creates a fresh schema and a pool bound to it. */
export async function createTestSchema(prefix = 't'): Promise<TestSchema> {
  const settings = pgSettings()
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client(settings)
  await admin.connect()
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`)
  } finally {
    await admin.end()
  }
  const pool = new pg.Pool({ ...settings, options: `-c search_path=${schema}`, max: 4 })
  let dropped = false
  return {
    schema,
    pool,
    url: pgUrl(settings, schema),
    async drop() {
      if (dropped) return
      dropped = true
      await pool.end()
      const c = new pg.Client(settings)
      await c.connect()
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      } finally {
        await c.end()
      }
    },
  }
}

/** Runs `fn` with a fresh schema and drops it afterwards, whatever happens. */
export async function withSchema<T>(fn: (s: TestSchema) => Promise<T>, prefix = 't'): Promise<T> {
  const s = await createTestSchema(prefix)
  try {
    return await fn(s)
  } finally {
    await s.drop()
  }
}
