/**
 * PgDriver on embedded PostgreSQL (PGlite, in-process WASM). Bulk rows go through
 * `COPY … FROM '/dev/blob'` with the `blob` query option, since PGlite has no COPY FROM STDIN.
 * A data folder can be opened by only one PGlite instance, so instances are shared per folder
 * within the process (reference counted): the sink, `sluice status` and `sluice sql` can coexist;
 * across processes a lock file keeps a second process out (embedded-lock.ts).
 */
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { copySql, type PgDriver, type PgSession, type QueryResult } from './driver.ts'
import { lockEmbedded } from './embedded-lock.ts'
import { keepPrivate, mkdirPrivateSync, restrictUmask } from '../../../private-files.ts'

interface Shared {
  readonly db: Promise<PGlite>
  refs: number
  readonly unlock: () => void
}

const open = new Map<string, Shared>()

type Queryable = Pick<Transaction, 'query'>

function session(q: Queryable): PgSession {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const r = await q.query<R>(sql, params as unknown[])
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, columns: r.fields.map((f) => f.name) }
    },
    async queryArrays(sql) {
      // PGlite's query() is the extended protocol (exec() would be the simple one).
      const r = await q.query<unknown[]>(sql, [], { rowMode: 'array' })
      return { columns: r.fields.map((f) => f.name), rows: r.rows }
    },
    async copyFrom(table, columns, chunks, savepoint) {
      // In process: a statement more costs no round trip.
      if (savepoint !== undefined) await q.query(`SAVEPOINT ${savepoint}`)
      // PGlite copies from an in-memory file: the chunks are gathered into a Blob (no string join).
      const r = await q.query(copySql(table, columns, "'/dev/blob'"), [], { blob: new Blob([...chunks]) })
      return r.affectedRows ?? 0
    },
  }
}

/** Opens (or shares) PGlite on `dataDir` (an absolute folder, or undefined for in-memory). */
export function createPgliteDriver(dataDir: string | undefined): PgDriver {
  const key = dataDir ?? `memory:${Math.random()}`
  let shared = open.get(key)
  if (shared === undefined) {
    let unlock = (): void => {}
    if (dataDir !== undefined) {
      // The data folder holds the tables: owner-only whatever the umask (private-files.ts).
      restrictUmask()
      mkdirPrivateSync(dataDir)
      keepPrivate(dataDir)
      unlock = lockEmbedded(dataDir)
    }
    shared = { db: PGlite.create(dataDir === undefined ? undefined : { dataDir }), refs: 0, unlock }
    open.set(key, shared)
  }
  shared.refs++
  const entry = shared
  let closed = false
  return {
    kind: 'pglite',
    async transaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T> {
      const db = await entry.db
      return db.transaction((tx) => fn(session(tx)))
    },
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      return session(await entry.db).query<R>(sql, params)
    },
    async close() {
      if (closed) return
      closed = true
      if (--entry.refs > 0) return
      open.delete(key)
      try {
        await (await entry.db).close()
      } finally {
        entry.unlock()
      }
    },
  }
}
