/**
 * One process at a time per embedded database. PGlite does not lock its data folder against other
 * processes, and two PostgreSQL instances writing one folder corrupt it; so a `<folder>.lock` file
 * holds the owner's pid. A lock left by a process that died (SIGKILL, crash) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { SluiceError } from '../../../errors.ts'
import { PRIVATE_FILE_MODE, processAlive } from '../../../private-files.ts'

/** Takes the lock of an embedded data folder; returns the function that releases it. */
export function lockEmbedded(dataDir: string): () => void {
  const file = `${dataDir}.lock`
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', PRIVATE_FILE_MODE)
      try {
        writeSync(fd, String(process.pid))
      } finally {
        closeSync(fd)
      }
      return () => rmSync(file, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let owner = Number.NaN
    try {
      owner = Number(readFileSync(file, 'utf8').trim())
    } catch {
      // Removed between our open and read: try again.
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
      throw new SluiceError(
        'SINK_UNAVAILABLE',
        `the embedded database ${dataDir} is in use by process ${owner}; only one process at a time can open it (stop that process, or query through it)`,
        { retryable: false, details: { dataDir, owner, inUse: true } },
      )
    }
    rmSync(file, { force: true }) // stale: its owner is gone
  }
  throw new SluiceError('SINK_UNAVAILABLE', `cannot take the lock ${file}`, { retryable: false })
}

/** True for the error of lockEmbedded when another live process has the database open. */
export function embeddedInUse(err: unknown): err is SluiceError {
  return err instanceof SluiceError && err.details.inUse === true && typeof err.details.owner === 'number'
}
