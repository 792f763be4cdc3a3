/**
 * The run lock: how `sluice reset` knows from the database that a worker of the pipeline is running.
 * Every `sluice run` holds a session-level advisory lock in *shared* mode, keyed by the schema and
 * the pipeline id, on a connection of its own for as long as its store is open (several workers of
 * one pipeline each hold it); `sluice reset` takes the same key *exclusively* inside its transaction
 * and refuses (PIPELINE_RUNNING) when it cannot. A worker killed with SIGKILL loses its connection,
 * and PostgreSQL drops its lock with it, so a dead worker never blocks a reset.
 *
 * A run that starts while a reset holds the key waits for the reset's transaction to end. A lost
 * lock connection (a database restart) is re-opened and the lock taken again in the background;
 * meanwhile the stored positions' compare-and-set still fences the worker's commits if a reset
 * slipped in (SINK_FENCED). On embedded PGlite there is no second session: the embedded
 * database's lock file keeps every other process out (embedded-lock.ts).
 */
import type { Logger } from '../../../api/component.ts'
import type { DedicatedSession, PgDriver, PgSession } from './driver.ts'
import { sqlText } from './sql/sql-files.ts'

/** The application_name of the lock's connection, for pg_stat_activity. */
export const RUN_LOCK_APPLICATION = 'sluice run lock'

/** Pause before re-taking a lost lock. */
const RETAKE_DELAY_MS = 1000

/** The text the lock key is hashed from: a pipeline is its id within its bookkeeping schema. */
export function runLockKey(schema: string, pipelineId: string): string {
  return `${schema}.${pipelineId}`
}

/** Takes the run lock exclusively for the transaction of `tx`; false while a run holds it. */
export async function tryExclusiveRunLock(tx: Pick<PgSession, 'query'>, schema: string, pipelineId: string): Promise<boolean> {
  const r = await tx.query<{ locked: boolean }>(sqlText('run-lock-exclusive'), [runLockKey(schema, pipelineId)])
  return r.rows[0]?.locked === true
}

/** The shared lock one `sluice run` holds for a pipeline; release() when its store closes. */
export class RunLock {
  readonly #driver: PgDriver
  readonly #key: string
  readonly #log: Logger
  #session: DedicatedSession | null = null
  /** A connection still taking the lock (closed by release() too). */
  #pending: DedicatedSession | null = null
  #released = false

  private constructor(driver: PgDriver, key: string, log: Logger) {
    this.#driver = driver
    this.#key = key
    this.#log = log
  }

  /** Takes the lock (waiting for a reset in progress); null on a driver without sessions (PGlite). */
  static async take(driver: PgDriver, schema: string, pipelineId: string, log: Logger, signal: AbortSignal): Promise<RunLock | null> {
    if (driver.dedicated === undefined) return null
    const lock = new RunLock(driver, runLockKey(schema, pipelineId), log)
    await lock.#acquire(signal)
    return lock
  }

  /** True while the lock's connection is up and holds it. */
  get held(): boolean {
    return this.#session !== null
  }

  async #acquire(signal: AbortSignal): Promise<void> {
    const session = await (this.#driver.dedicated as (name: string) => Promise<DedicatedSession>)(RUN_LOCK_APPLICATION)
    // Stopping while waiting for a reset: closing the connection cancels the wait.
    const onAbort = (): void => void session.close()
    signal.addEventListener('abort', onAbort, { once: true })
    this.#pending = session
    try {
      const r = await session.query<{ locked: boolean }>(sqlText('run-lock-try'), [this.#key])
      if (r.rows[0]?.locked !== true) {
        this.#log.info({ lock: this.#key }, 'waiting for a sluice reset of this pipeline to finish')
        await session.query(sqlText('run-lock-wait'), [this.#key])
      }
    } catch (err) {
      await session.close()
      throw err
    } finally {
      this.#pending = null
      signal.removeEventListener('abort', onAbort)
    }
    if (this.#released) {
      await session.close()
      return
    }
    this.#session = session
    void session.lost.then((err) => this.#onLost(session, err))
  }

  async #onLost(session: DedicatedSession, err: Error): Promise<void> {
    if (this.#released || this.#session !== session) return
    this.#session = null
    await session.close()
    this.#log.warn({ err: err.message }, 'the run lock connection was lost; taking the lock again')
    while (!this.#released) {
      await new Promise((resolve) => setTimeout(resolve, RETAKE_DELAY_MS).unref())
      if (this.#released) return
      try {
        await this.#acquire(AbortSignal.timeout(60_000))
        if (this.#session !== null) this.#log.info({ lock: this.#key }, 'run lock taken again')
        return
      } catch (retry) {
        this.#log.warn({ err: (retry as Error).message }, 'taking the run lock again failed; retrying')
      }
    }
  }

  /** Lets the lock go (closing its connection). */
  async release(): Promise<void> {
    this.#released = true
    const sessions = [this.#session, this.#pending]
    this.#session = null
    this.#pending = null
    await Promise.all(sessions.map((s) => s?.close()))
  }
}
