/**
 * PgDriver on a PostgreSQL server: a pg Pool, one pooled client per transaction, bulk rows through
 * pg-copy-streams (`COPY … FROM STDIN`), streamed chunk by chunk.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { Logger } from '../../../api/component.ts'
import type { ConnectPlan } from './tls.ts'
import { copySql, type DedicatedSession, type PgDriver, type PgSession, type QueryResult } from './driver.ts'

type CopyStream = ReturnType<typeof copyFrom>
type CopyInHandler = (this: CopyStream, connection: { stream: { cork(): void; uncork(): void } }) => void

/**
 * pg-copy-streams sends what it buffered until the server's CopyInResponse as a header write and a
 * data write per chunk, then CopyDone, each a syscall of its own: a small batch's COPY was three
 * socket writes. The socket is corked while that burst is sent, so it leaves as one writev.
 */
function oneWriteFlush(stream: CopyStream): CopyStream {
  const target = stream as CopyStream & { handleCopyInResponse: CopyInHandler }
  const handle = target.handleCopyInResponse
  target.handleCopyInResponse = function (connection) {
    connection.stream.cork()
    try {
      handle.call(this, connection)
    } finally {
      connection.stream.uncork()
    }
  }
  return stream
}

function session(client: pg.PoolClient): PgSession {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const r = await client.query(sql, params as unknown[])
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0, columns: (r.fields ?? []).map((f) => f.name) }
    },
    async queryArrays(sql) {
      // queryMode 'extended': Parse/Bind/Execute even without parameters (the simple protocol runs "a; b").
      // (@types/pg does not declare queryMode; pg >= 8.12 honours it.)
      const config: pg.QueryArrayConfig & { queryMode: 'extended' } = { text: sql, values: [], rowMode: 'array', queryMode: 'extended' }
      const r = await client.query<unknown[]>(config)
      return { columns: (r.fields ?? []).map((f) => f.name), rows: r.rows }
    },
    async copyFrom(table, columns, chunks, savepoint) {
      // One simple-protocol Query holds both statements: the server answers SAVEPOINT, then CopyIn.
      const sql = copySql(table, columns, 'STDIN')
      const stream = client.query(oneWriteFlush(copyFrom(savepoint === undefined ? sql : `SAVEPOINT ${savepoint}; ${sql}`)))
      await pipeline(Readable.from(chunks, { objectMode: false }), stream)
      return stream.rowCount
    },
  }
}

/** A connected client of its own; `lost` resolves when its socket fails or the server ends it. */
async function dedicatedSession(client: pg.Client): Promise<DedicatedSession> {
  let closing = false
  let resolveLost: (err: Error) => void = () => {}
  const lost = new Promise<Error>((resolve) => (resolveLost = resolve))
  // Unheard, a lost connection's 'error' would crash the process.
  client.on('error', (err) => {
    if (!closing) resolveLost(err)
  })
  client.on('end', () => {
    if (!closing) resolveLost(new Error('the connection was closed by the server'))
  })
  await client.connect()
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const r = await client.query(sql, params as unknown[])
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0, columns: (r.fields ?? []).map((f) => f.name) }
    },
    lost,
    async close() {
      closing = true
      await client.end().catch(() => {})
    },
  }
}

/**
 * Finds the first attempt of the plan the server accepts (libpq's allow/prefer: plain then TLS, or
 * TLS then plain) with one probe connection, and returns its pool options. A failure that is not a
 * reason to fall back (wrong password, untrusted certificate, server down) is thrown as it is.
 */
async function choose(options: pg.PoolConfig, plan: ConnectPlan): Promise<pg.PoolConfig> {
  const configs = plan.attempts.map((ssl): pg.PoolConfig => ({ ...options, ssl }))
  if (configs.length === 1) return configs[0] as pg.PoolConfig
  for (let i = 0; ; i++) {
    const config = configs[i] as pg.PoolConfig
    const probe = new pg.Client(config)
    try {
      await probe.connect()
      await probe.end()
      return config
    } catch (err) {
      await probe.end().catch(() => {})
      if (i === configs.length - 1 || !plan.fallBack(err)) throw err
    }
  }
}

/**
 * Opens a pool with the given pg options (connection string or host/port/…, `max`) and TLS plan.
 * The pool is made at the first use, once the plan's attempt is chosen; a failed choice is made
 * again at the next use (the server may be down for now).
 */
export function createPgDriver(options: pg.PoolConfig, plan: ConnectPlan, logger: Logger): PgDriver {
  let made: Promise<pg.Pool> | undefined
  let ended = false
  let chosen: pg.PoolConfig | undefined
  const poolFor = (): Promise<pg.Pool> => {
    made ??= choose({ application_name: 'sluice', ...options }, plan).then(
      (config) => {
        chosen = config
        const pool = new pg.Pool(config)
        // An idle client losing its connection emits here; without a listener the process would crash.
        pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle PostgreSQL connection lost'))
        if (config.ssl === false && plan.mode === 'prefer') logger.warn({ sslmode: plan.mode }, 'PostgreSQL connection is not encrypted (sslmode fell back to plain TCP)')
        return pool
      },
      (err: unknown) => {
        made = undefined
        throw err
      },
    )
    return made
  }
  return {
    kind: 'pg',
    async transaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T> {
      const pool = await poolFor()
      const client = await pool.connect()
      let broken: Error | undefined
      // A checked-out client that loses its socket emits 'error'; unheard, it would crash the process.
      // The pending query fails on its own; the client is marked broken so it is discarded on release.
      const onError = (err: Error) => {
        broken = err
      }
      client.on('error', onError)
      try {
        await client.query('BEGIN')
        const result = await fn(session(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        try {
          await client.query('ROLLBACK')
        } catch (rollbackErr) {
          // The connection is gone (or unusable): discard it rather than return it to the pool.
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr))
        }
        throw err
      } finally {
        client.off('error', onError)
        client.release(broken)
      }
    },
    async dedicated(applicationName: string): Promise<DedicatedSession> {
      await poolFor()
      return dedicatedSession(new pg.Client({ ...(chosen as pg.PoolConfig), application_name: applicationName }))
    },
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const r = await (await poolFor()).query(sql, params as unknown[])
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0, columns: (r.fields ?? []).map((f) => f.name) }
    },
    async close() {
      if (ended) return
      ended = true
      const pending = made
      made = undefined
      if (pending === undefined) return
      const pool = await pending.catch(() => undefined)
      await pool?.end()
    },
  }
}
