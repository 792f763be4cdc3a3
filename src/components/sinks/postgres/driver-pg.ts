/**
 * PgDriver on a PostgreSQL server: a pg Pool, one pooled client per transaction, bulk rows through
 * pg-copy-streams (`COPY … FROM STDIN`), streamed chunk by chunk.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { Logger } from '../../../api/component.ts'
import { copySql, type PgDriver, type PgSession, type QueryResult } from './driver.ts'

function session(client: pg.PoolClient): PgSession {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const r = await client.query(sql, params as unknown[])
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0, columns: (r.fields ?? []).map((f) => f.name) }
    },
    async copyFrom(table, columns, chunks) {
      const stream = client.query(copyFrom(copySql(table, columns, 'STDIN')))
      await pipeline(Readable.from(chunks, { objectMode: false }), stream)
      return stream.rowCount
    },
  }
}

/** Opens a pool with the given pg options (connection string or host/port/…, `max`). */
export function createPgDriver(options: pg.PoolConfig, logger: Logger): PgDriver {
  const pool = new pg.Pool({ application_name: 'sluice', ...options })
  // An idle client losing its connection emits here; without a listener the process would crash.
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle PostgreSQL connection lost'))
  return {
    kind: 'pg',
    async transaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T> {
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
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const r = await pool.query(sql, params as unknown[])
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0, columns: (r.fields ?? []).map((f) => f.name) }
    },
    async close() {
      await pool.end()
    },
  }
}
