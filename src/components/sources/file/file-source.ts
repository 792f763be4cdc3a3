/**
 * The file source (Spark's file stream source): a folder of NDJSON or CSV files, picked up as new
 * files arrive. Every file is one partition of the Position map, `file:<relative path>`, whose
 * value is `done` once a committed batch read it; a batch reads whole files, so re-reading a
 * range means re-reading the same files, which gives the same records as long as files do not
 * change after they became eligible (see listing.ts for the completeness rule).
 *
 * The position map grows by one key per file ever read (Spark's seen-files log does too, and
 * Spark compacts it and forgets files older than `maxFileAge`; doing the same here is future
 * work). One key per file stays cheap up to many thousands of files; cleanSource keeps the
 * folder listing small, not the position.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ComponentContext, Logger } from '../../../api/component.ts'
import type { Position } from '../../../api/position.ts'
import type { PositionMoves, ResetTarget } from '../../../api/reset.ts'
import type { SourceRecord } from '../../../api/record.ts'
import type { ReadLimits, Source } from '../../../api/source.ts'
import { SluiceError } from '../../../errors.ts'
import type { FileExtractConfig } from './config.ts'
import { cleanFile } from './cleanup.ts'
import { csvRecords, duplicateHeaderName, fieldCountError, headerNames, nameFields } from './csv.ts'
import { isBlank, type Line, splitLines } from './lines.ts'
import { listFiles, listStableFiles, sortFiles, type ListedFile } from './listing.ts'
import { fileResetMoves } from './reset.ts'

/**
 * The parsed `extract` section (config.ts), plus `stableMs`: the quiet time before a file is read
 * (default 1000 ms; optional here so tests can build a config by hand).
 */
export type FileSourceConfig = Omit<FileExtractConfig, 'stableMs'> & { readonly stableMs?: number | undefined }

/** Knobs for tests: a clock and the chunk size. */
export interface FileSourceOptions {
  readonly now?: () => number
  readonly chunkRecords?: number
}

const PREFIX = 'file:'
const DONE = 'done'
const DEFAULT_STABLE_MS = 1000
const DEFAULT_CHUNK = 5000
const NO_HEADERS: SourceRecord['headers'] = Object.freeze([])

/** Builds one SourceRecord of the file being read. */
type MakeRecord = (offset: number, line: number, value: Buffer, fields?: Record<string, string | null>, decodeError?: string) => SourceRecord

/** A planned file and where it is now. */
interface LocatedFile extends ListedFile {
  readonly path: string
}

/** Reads the files of one folder as a Source. */
export class FileSource implements Source {
  readonly #config: FileSourceConfig
  readonly #dir: string
  readonly #archiveDir: string | null
  readonly #stableMs: number
  readonly #now: () => number
  readonly #chunk: number
  readonly #logger: Logger
  /** Set by close(): from then on no file is listed or read (the contract: no record after close). */
  #closed = false

  constructor(config: FileSourceConfig, ctx: ComponentContext, options: FileSourceOptions = {}) {
    if (config.cleanSource === 'archive' && config.sourceArchiveDir === undefined) {
      throw new SluiceError('CONFIG_INVALID', 'extract.cleanSource "archive" needs extract.sourceArchiveDir')
    }
    this.#config = config
    this.#dir = resolve(ctx.baseDir, config.path)
    this.#archiveDir = config.sourceArchiveDir === undefined ? null : resolve(ctx.baseDir, config.sourceArchiveDir)
    this.#stableMs = config.stableMs ?? DEFAULT_STABLE_MS
    this.#now = options.now ?? Date.now
    this.#chunk = options.chunkRecords ?? DEFAULT_CHUNK
    this.#logger = ctx.logger.child({ source: 'file', path: this.#dir })
  }

  /** Checks that the folder exists (retryable: it may be a mount that comes back). */
  async open(_signal?: AbortSignal): Promise<void> {
    this.#checkOpen()
    const info = await stat(this.#dir).catch((cause: unknown) => {
      throw new SluiceError('SOURCE_UNAVAILABLE', `source folder ${this.#dir} cannot be read`, { cause })
    })
    if (!info.isDirectory()) throw new SluiceError('SOURCE_UNAVAILABLE', `source path ${this.#dir} is not a folder`)
  }

  /** Nothing read yet: every file is new. */
  async initialPosition(_signal?: AbortSignal): Promise<Position> {
    this.#checkOpen()
    return {}
  }

  /**
   * The next eligible files not done in `from`, each marked done; null when none. At most
   * maxFiles of them, and no more than maxBytes of file size together (but always the first
   * file, however large). Sizes are known exactly here because an eligible file no longer
   * changes, so the byte cap is exact and decided at plan time like the rest of the plan.
   */
  async plan(from: Position, limits: ReadLimits, _signal?: AbortSignal): Promise<Position | null> {
    this.#checkOpen()
    const files = await this.#eligible(from)
    if (files.length === 0) return null
    const max = limits.maxFiles === undefined ? files.length : Math.max(1, limits.maxFiles)
    const to: Record<string, string> = {}
    let bytes = 0
    let taken = 0
    for (const file of files) {
      if (taken >= max || (taken > 0 && limits.maxBytes !== undefined && bytes + file.size > limits.maxBytes)) break
      to[PREFIX + file.name] = DONE
      bytes += file.size
      taken++
    }
    return to
  }

  /** Every eligible file, whether done or not (lag reporting). */
  async latest(_signal?: AbortSignal): Promise<Position> {
    this.#checkOpen()
    const to: Record<string, string> = {}
    for (const file of await this.#eligible({})) to[PREFIX + file.name] = DONE
    return to
  }

  /** Reads the files done in `to` and not in `from`, in the configured order. */
  async *read(from: Position, to: Position, signal: AbortSignal): AsyncGenerator<SourceRecord[]> {
    this.#checkOpen()
    const files: LocatedFile[] = []
    for (const [key, value] of Object.entries(to)) {
      if (!key.startsWith(PREFIX) || value !== DONE || from[key] === DONE) continue
      files.push(await this.#locate(key.slice(PREFIX.length)))
    }
    let chunk: SourceRecord[] = []
    for (const file of sortFiles(files, this.#config.order)) {
      for await (const records of this.#records(file, signal)) {
        for (const record of records) {
          chunk.push(record)
          if (chunk.length >= this.#chunk) {
            this.#checkOpen()
            yield chunk
            chunk = []
          }
        }
      }
    }
    this.#checkOpen()
    if (chunk.length > 0) yield chunk
  }

  /** Archives or deletes the files done in `to` that are still in the folder (cleanSource). */
  async committed(to: Position): Promise<void> {
    if (this.#config.cleanSource === 'off') return
    const present = await listFiles({ dir: this.#dir, pattern: this.#config.pattern, order: 'name', stableMs: 0, now: 0 })
    for (const file of present) {
      if (to[PREFIX + file.name] !== DONE) continue
      try {
        await cleanFile(this.#config.cleanSource, this.#dir, file.name, this.#archiveDir)
      } catch (err) {
        // Cleanup is best effort: the file stays done in the position and is never read again.
        this.#logger.warn({ file: file.name, err: (err as Error).message }, 'cleanSource failed')
      }
    }
  }

  /** `sluice reset`: see reset.ts. */
  async resetTo(target: ResetTarget, stored: Position, signal: AbortSignal): Promise<PositionMoves> {
    signal.throwIfAborted()
    if (target.kind !== 'latest') return fileResetMoves(target, stored, {})
    await this.open()
    return fileResetMoves(target, stored, await this.latest())
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError('SHUTDOWN', 'the file source is closed')
  }

  async #eligible(from: Position): Promise<ListedFile[]> {
    return listStableFiles({
      dir: this.#dir,
      pattern: this.#config.pattern,
      order: this.#config.order,
      stableMs: this.#stableMs,
      now: this.#now(),
      skip: (name) => from[PREFIX + name] === DONE,
    })
  }

  /** Finds a planned file: in the folder, or in the archive when a cleanup already moved it. */
  async #locate(name: string): Promise<LocatedFile> {
    const candidates = [join(this.#dir, name)]
    if (this.#archiveDir !== null) candidates.push(join(this.#archiveDir, name))
    for (const path of candidates) {
      try {
        const info = await stat(path)
        return { name, path, size: info.size, mtimeMs: info.mtimeMs }
      } catch {
        // try the next place
      }
    }
    throw new SluiceError('SOURCE_DATA_LOSS', `planned file ${name} is no longer in ${this.#dir}`, { details: { file: name } })
  }

  /** The records of one file, one array per chunk read from disk. */
  async *#records(file: LocatedFile, signal: AbortSignal): AsyncGenerator<SourceRecord[]> {
    const stream = createReadStream(file.path, { highWaterMark: 256 * 1024, signal })
    const partition = PREFIX + file.name
    const topic = file.name
    const timestamp = Math.trunc(file.mtimeMs)
    const record: MakeRecord = (offset, line, value, fields, decodeError) => ({
      partition,
      topic,
      partitionNumber: 0,
      offset: String(offset),
      key: null,
      value,
      timestamp,
      line,
      headers: NO_HEADERS,
      ...(fields === undefined ? {} : { fields }),
      ...(decodeError === undefined ? {} : { decodeError }),
    })
    try {
      const lines = splitLines(stream as AsyncIterable<Buffer>)
      if (this.#config.format === 'json') {
        for await (const batch of lines) {
          const out: SourceRecord[] = []
          for (const line of batch) if (!isBlank(line.bytes)) out.push(record(line.number, line.number, line.bytes))
          yield out
        }
        return
      }
      yield* this.#csv(lines, file.name, record)
    } catch (cause) {
      if (signal.aborted) throw new SluiceError('SHUTDOWN', 'file read aborted', { cause })
      if (cause instanceof SluiceError) throw cause
      throw new SluiceError('SOURCE_UNAVAILABLE', `cannot read ${file.name}`, { cause, details: { file: file.name } })
    } finally {
      stream.destroy()
    }
  }

  /**
   * The CSV records of one file: a bad record (not valid CSV, or a field count other than the
   * header's) becomes a record with `decodeError` that the engine sends to the DLQ, naming the file
   * and the line it starts on. When the header itself is not valid CSV, or names a column twice, every record
   * of the file is a dead letter (naming fields after a broken header would put values in the
   * wrong columns).
   */
  async *#csv(lines: AsyncIterable<Line[]>, name: string, record: MakeRecord): AsyncGenerator<SourceRecord[]> {
    const { header, delimiter, maxRecordBytes } = this.#config.csv
    let names: string[] | null = null
    let headerError: string | null = null
    let expected = -1
    // The offset: the row number after the header (blank lines and bad records count).
    let row = 0
    for await (const batch of csvRecords(lines, { delimiter, maxRecordBytes })) {
      const out: SourceRecord[] = []
      for (const csv of batch) {
        const at = `${name} line ${csv.line}`
        const bad = (reason: string): void => void out.push(record(row, csv.line, csv.bytes, undefined, reason))
        if (header && names === null && headerError === null) {
          if (csv.ok && isBlank(csv.bytes)) continue
          const named = csv.ok ? headerNames(csv.fields) : null
          const problem = csv.ok ? duplicateHeaderName(named as string[]) : `the CSV header is not valid CSV: ${csv.reason}`
          if (problem === null && named !== null) {
            names = named
            expected = names.length
            continue
          }
          headerError = csv.ok ? 'the CSV header names a column twice' : 'the CSV header is not valid CSV'
          bad(`${at}: ${problem}`)
          continue
        }
        row++
        if (csv.ok && isBlank(csv.bytes)) continue
        if (headerError !== null) {
          bad(`${at}: not read because ${headerError}`)
          continue
        }
        if (!csv.ok) {
          bad(`${at}: not valid CSV: ${csv.reason}`)
          continue
        }
        if (expected === -1) expected = csv.fields.length
        const countError = fieldCountError(csv.fields.length, expected, header)
        if (countError !== null) {
          bad(`${at}: ${countError}`)
          continue
        }
        out.push(record(row, csv.line, csv.bytes, nameFields(names ?? [], csv.fields)))
      }
      yield out
    }
  }
}
