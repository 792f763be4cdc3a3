/**
 * The few things the loader needs from a PostgreSQL connection, behind one small interface so that
 * the same loader runs on a PostgreSQL server (pg + pg-copy-streams) and on embedded PGlite. The only
 * real difference between the two is how bulk rows get in (COPY FROM STDIN vs COPY FROM '/dev/blob').
 */

/** Rows and affected-row count of a statement. */
export interface QueryResult<R> {
  readonly rows: R[]
  readonly rowCount: number
  /** Result column names, in order (also when there are no rows). */
  readonly columns: readonly string[]
}

/** A connection inside a transaction (or, for `PgDriver.query`, a pooled one-off). */
export interface PgSession {
  /** Runs one statement with `$n` parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
  /**
   * Runs `sql` (no parameters) through the extended query protocol, so the server refuses more than
   * one statement, with rows as arrays (columns of the same name are all kept).
   */
  queryArrays(sql: string): Promise<{ columns: string[]; rows: unknown[][] }>
  /**
   * Bulk-loads COPY-text-format chunks into `table` (already quoted) `(columns)` (already quoted),
   * returning the number of rows copied. Chunks are pulled lazily from the iterable. With
   * `savepoint` (a quoted name), that savepoint is established first, in the same round trip where
   * the driver can (the row writer's isolation of bad rows: one round trip less per batch).
   */
  copyFrom(table: string, columns: readonly string[], chunks: Iterable<Buffer>, savepoint?: string): Promise<number>
}

/** A connection of its own, outside the pool, for session state that must last (an advisory lock). */
export interface DedicatedSession {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
  /** Resolves with the reason once the connection is lost (not by close()). */
  readonly lost: Promise<Error>
  close(): Promise<void>
}

/** A database: a pool of connections (pg) or one in-process instance (PGlite). */
export interface PgDriver {
  readonly kind: 'pg' | 'pglite'
  /**
   * Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws
   * (the error is rethrown as is). A connection that failed is discarded, not reused.
   */
  transaction<T>(fn: (tx: PgSession) => Promise<T>): Promise<T>
  /**
   * Opens a connection of its own, with the pool's settings (TLS included) and this
   * application_name; absent on PGlite, whose one in-process instance has no second session.
   */
  dedicated?(applicationName: string): Promise<DedicatedSession>
  /** Runs one statement outside any explicit transaction. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
  close(): Promise<void>
}

/** The COPY statement both drivers issue (text format). */
export function copySql(table: string, columns: readonly string[], source: 'STDIN' | "'/dev/blob'"): string {
  return `COPY ${table} (${columns.join(', ')}) FROM ${source}`
}
