/**
 * The checkpoint folder (`checkpointLocation`), laid out as Spark's so that operators recognise it:
 *
 *   metadata          {"id": "<query uuid>", "pipelineId": "..."}
 *   offsets/<N>       write-ahead record of batch N, written BEFORE the batch runs:
 *                     {"batchId", "start", "end", "watermarkMs", "plannedAt"}
 *   commits/<N>       written AFTER batch N committed in the sink: {"batchId", "nextWatermarkMs"}
 *
 * A batch whose offsets/N exists without commits/N is re-run with exactly the same range and
 * watermark, so it gets the same batch id and the sink recognises it. With exactly-once on, the
 * sink database is the authority (it holds the committed position); this folder is the plan.
 * Files are written to a temporary name (`<name>.<pid>.tmp`), fsynced and renamed, so a crash never
 * leaves half a file; temporary files of a process that died are removed at the next start. The
 * folders are 0700 and the files 0600 whatever the umask (private-files.ts).
 */
import { open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import type { Position } from '../api/position.ts'
import { SluiceError } from '../errors.ts'
import { PRIVATE_FILE_MODE, mkdirPrivate, processAlive } from '../private-files.ts'

/** The write-ahead record of one batch. */
export interface PlannedBatch {
  readonly batchId: number
  readonly start: Position
  readonly end: Position
  /** Watermark the batch applies (from the previous commit), epoch ms. */
  readonly watermarkMs: number | null
  /** When the trigger fired for this batch (Spark's batchTimestampMs), ISO-8601. */
  readonly plannedAt: string
}

/** The commit marker of one batch. */
export interface CommittedBatch {
  readonly batchId: number
  readonly nextWatermarkMs: number | null
  /** Position after the batch; the authority when exactly-once is off. */
  readonly end: Position
}

/** A temporary file of #writeJson: `<name>.<pid>.tmp`. */
const TEMP_NAME = /^[^.]+\.(\d+)\.tmp$/

/** How many batches of offsets/ and commits/ to keep (Spark's minBatchesToRetain). */
const RETAIN = 100

/** Reads and writes one checkpoint folder. */
export class CheckpointLog {
  readonly location: string

  constructor(location: string) {
    this.location = location
  }

  /** Creates the folder layout and the metadata file when absent; returns the query id. */
  async init(pipelineId: string): Promise<string> {
    try {
      await mkdirPrivate(this.location)
      await mkdirPrivate(join(this.location, 'offsets'))
      await mkdirPrivate(join(this.location, 'commits'))
      await this.#removeStaleTemps()
    } catch (cause) {
      throw new SluiceError('CHECKPOINT_IO', `cannot create checkpoint folder ${this.location}`, { cause })
    }
    const existing = await this.#readJson<{ id: string; pipelineId: string }>('metadata')
    if (existing) {
      if (existing.pipelineId !== pipelineId) {
        throw new SluiceError(
          'CHECKPOINT_CORRUPT',
          `checkpoint ${this.location} belongs to pipeline "${existing.pipelineId}", not "${pipelineId}"; use another checkpointLocation`,
        )
      }
      return existing.id
    }
    const id = randomUUID()
    await this.#writeJson('metadata', { id, pipelineId })
    return id
  }

  /** Records batch N before it runs. */
  async writePlanned(batch: PlannedBatch): Promise<void> {
    await this.#writeJson(join('offsets', String(batch.batchId)), batch)
  }

  /** Records that batch N committed, and trims old entries. */
  async writeCommitted(batch: CommittedBatch): Promise<void> {
    await this.#writeJson(join('commits', String(batch.batchId)), batch)
    await this.#trim(batch.batchId)
  }

  /** The newest planned batch, if any. */
  async latestPlanned(): Promise<PlannedBatch | null> {
    const id = await this.#latestId('offsets')
    return id === null ? null : this.#readJson<PlannedBatch>(join('offsets', String(id)))
  }

  /** The newest committed batch, if any. */
  async latestCommitted(): Promise<CommittedBatch | null> {
    const id = await this.#latestId('commits')
    return id === null ? null : this.#readJson<CommittedBatch>(join('commits', String(id)))
  }

  async #latestId(dir: string): Promise<number | null> {
    let names: string[]
    try {
      names = await readdir(join(this.location, dir))
    } catch {
      return null
    }
    let max: number | null = null
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue
      const n = Number(name)
      if (max === null || n > max) max = n
    }
    return max
  }

  async #trim(latest: number): Promise<void> {
    const below = latest - RETAIN
    if (below < 0 || latest % 10 !== 0) return
    for (const dir of ['offsets', 'commits']) {
      const names = await readdir(join(this.location, dir)).catch(() => [] as string[])
      for (const name of names) {
        if (/^\d+$/.test(name) && Number(name) < below) await rm(join(this.location, dir, name), { force: true })
      }
    }
  }

  /** Removes `<name>.<pid>.tmp` files whose writer is gone (killed between open and rename). */
  async #removeStaleTemps(): Promise<void> {
    for (const dir of ['', 'offsets', 'commits']) {
      for (const name of await readdir(join(this.location, dir))) {
        const match = TEMP_NAME.exec(name)
        if (match === null) continue
        const pid = Number(match[1])
        if (pid !== process.pid && processAlive(pid)) continue
        await rm(join(this.location, dir, name), { force: true })
      }
    }
  }

  async #readJson<T>(name: string): Promise<T | null> {
    let text: string
    try {
      text = await readFile(join(this.location, name), 'utf8')
    } catch {
      return null
    }
    try {
      return JSON.parse(text) as T
    } catch (cause) {
      throw new SluiceError('CHECKPOINT_CORRUPT', `checkpoint file ${join(this.location, name)} is not valid JSON`, { cause })
    }
  }

  async #writeJson(name: string, value: unknown): Promise<void> {
    const target = join(this.location, name)
    const temp = `${target}.${process.pid}.tmp`
    try {
      const handle = await open(temp, 'w', PRIVATE_FILE_MODE)
      try {
        await handle.writeFile(JSON.stringify(value))
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temp, target)
    } catch (cause) {
      throw new SluiceError('CHECKPOINT_IO', `cannot write checkpoint file ${target}`, { cause })
    }
  }
}
