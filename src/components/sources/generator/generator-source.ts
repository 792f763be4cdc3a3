/**
 * The generator source (Spark's rate source): synthetic records from a field spec, at
 * `rowsPerSecond` or as fast as the pipeline goes, optionally ending after `totalRecords`.
 * Partitions are `gen/<n>` with the next record index as position. Record i of partition p is a
 * pure function of (seed, p, i) (see random.ts), and its time is a fixed epoch plus its sequence
 * number times the rate's interval, so a re-read range is identical, across restarts too.
 */
import type { ComponentContext } from '../../../api/component.ts'
import type { Position } from '../../../api/position.ts'
import type { SourceRecord } from '../../../api/record.ts'
import type { ReadLimits, Source } from '../../../api/source.ts'
import { SluiceError } from '../../../errors.ts'
import { partitionShare, takeLowest } from './budget.ts'
import type { GeneratorExtractConfig } from './config.ts'
import { compileFields, type RecordWriter } from './fields.ts'
import { GeneratedRecord } from './generated-record.ts'
import { Rng } from './random.ts'

/** Knobs for tests: a clock and the chunk size. */
export interface GeneratorSourceOptions {
  readonly now?: () => number
  readonly chunkRecords?: number
}

/** Time of sequence number 0: fixed, so that timestamps are repeatable. */
export const GENERATOR_EPOCH_MS = Date.UTC(2026, 0, 1)
/** Batch size when neither a rate, a total nor maxRecords bounds a batch. */
export const DEFAULT_BATCH_CAP = 100_000
const DEFAULT_CHUNK = 5000
const TOPIC = 'generator'

/** Generates records as a Source. */
export class GeneratorSource implements Source {
  readonly #partitions: number
  readonly #seed: number
  readonly #rate: number | undefined
  readonly #total: number | undefined
  readonly #intervalMs: number
  readonly #write: RecordWriter
  readonly #now: () => number
  readonly #chunk: number
  /** Rate mode: when this process started producing (open), and from which position (first plan). */
  #startMs: number | null = null
  #base: number[] | null = null
  /** Set by close(): from then on nothing is generated (the contract: no record after close). */
  #closed = false

  constructor(config: GeneratorExtractConfig, _ctx: ComponentContext, options: GeneratorSourceOptions = {}) {
    if (!Number.isInteger(config.partitions) || config.partitions < 1) {
      throw new SluiceError('CONFIG_INVALID', 'extract.partitions must be a positive integer')
    }
    this.#partitions = config.partitions
    this.#seed = config.seed
    this.#rate = config.rowsPerSecond
    this.#total = config.totalRecords
    this.#intervalMs = 1000 / (config.rowsPerSecond ?? 1000)
    this.#write = compileFields(config.fields)
    this.#now = options.now ?? Date.now
    this.#chunk = options.chunkRecords ?? DEFAULT_CHUNK
  }

  /** Starts the rate clock: records accumulate from now on. */
  async open(_signal?: AbortSignal): Promise<void> {
    this.#checkOpen()
    this.#startMs ??= this.#now()
  }

  /** Every partition at record 0. */
  async initialPosition(_signal?: AbortSignal): Promise<Position> {
    this.#checkOpen()
    const out: Record<string, string> = {}
    for (let p = 0; p < this.#partitions; p++) out[key(p)] = '0'
    return out
  }

  /** The next batch: what the rate and total allow, lowest sequence numbers first, at most maxRecords; null when none. */
  async plan(from: Position, limits: ReadLimits, _signal?: AbortSignal): Promise<Position | null> {
    this.#checkOpen()
    const current = this.#current(from)
    const unbounded = this.#rate === undefined && this.#total === undefined
    const budget = limits.maxRecords ?? (unbounded ? DEFAULT_BATCH_CAP : Infinity)
    const next = takeLowest(budget, current, this.#available(current))
    const to: Record<string, string> = {}
    next.forEach((n, p) => {
      if (n > (current[p] as number)) to[key(p)] = String(n)
    })
    return Object.keys(to).length === 0 ? null : to
  }

  /**
   * What exists now: totalRecords, further bounded with a rate by what the rate produced since
   * open(). Endless without both: every partition reports Number.MAX_SAFE_INTEGER. With a rate,
   * nothing is known before the first plan (the resume position is the rate's base): `{}`.
   */
  async latest(_signal?: AbortSignal): Promise<Position> {
    this.#checkOpen()
    if (this.#rate !== undefined && this.#base === null) return {}
    const cap = this.#available(this.#base ?? new Array<number>(this.#partitions).fill(0))
    const out: Record<string, string> = {}
    cap.forEach((n, p) => {
      out[key(p)] = String(Math.min(n, Number.MAX_SAFE_INTEGER))
    })
    return out
  }

  /** Generates records [from, to) of each partition, partition by partition, in chunks. */
  async *read(from: Position, to: Position, signal: AbortSignal): AsyncGenerator<SourceRecord[]> {
    const rng = new Rng()
    for (let p = 0; p < this.#partitions; p++) {
      const end = to[key(p)]
      if (end === undefined) continue
      const stop = Number(end)
      for (let start = Number(from[key(p)] ?? '0'); start < stop; start += this.#chunk) {
        if (signal.aborted) throw new SluiceError('SHUTDOWN', 'generator read aborted')
        this.#checkOpen()
        yield this.#records(rng, p, start, Math.min(stop, start + this.#chunk))
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError('SHUTDOWN', 'the generator source is closed')
  }

  #records(rng: Rng, p: number, start: number, stop: number): SourceRecord[] {
    const partition = key(p)
    const records = new Array<SourceRecord>(stop - start)
    for (let i = start; i < stop; i++) {
      const sequence = i * this.#partitions + p
      const timeMs = GENERATOR_EPOCH_MS + Math.floor(sequence * this.#intervalMs)
      rng.reseed(this.#seed, p, i)
      const fields: Record<string, unknown> = {}
      this.#write(rng, { partition: p, index: i, sequence, timeMs }, fields)
      records[i - start] = new GeneratedRecord(partition, TOPIC, p, String(i), timeMs, fields)
    }
    return records
  }

  #current(from: Position): number[] {
    const out: number[] = []
    for (let p = 0; p < this.#partitions; p++) {
      const v = Number(from[key(p)] ?? '0')
      if (!Number.isSafeInteger(v) || v < 0) throw new SluiceError('CHECKPOINT_CORRUPT', `generator position ${key(p)}=${from[key(p)]} is not a record index`)
      out.push(v)
    }
    return out
  }

  /** Per partition, the index up to which records exist now (exclusive). */
  #available(current: number[]): number[] {
    const cap = current.map(() => Infinity)
    if (this.#total !== undefined) {
      for (let p = 0; p < this.#partitions; p++) cap[p] = partitionShare(this.#total, p, this.#partitions)
    }
    if (this.#rate !== undefined) {
      const now = this.#now()
      this.#startMs ??= now
      this.#base ??= [...current]
      const produced = Math.floor(((now - this.#startMs) * this.#rate) / 1000)
      for (let p = 0; p < this.#partitions; p++) {
        const byRate = (this.#base[p] ?? 0) + partitionShare(produced, p, this.#partitions)
        cap[p] = Math.min(cap[p] as number, byRate)
      }
    }
    return cap
  }
}

function key(p: number): string {
  return `gen/${p}`
}
