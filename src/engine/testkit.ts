/**
 * In-memory Source, commit store and writers for the engine's unit tests (the loop, recovery, retries). They follow
 * the contracts of src/api; the end-to-end guarantees are proven against a real Kafka and a real
 * PostgreSQL in test/e2e, never with these.
 */
import type { Position } from '../api/position.ts'
import type { SourceRecord } from '../api/record.ts'
import type { BatchIdOf, BatchMark, CommitOutcome, CommitSettle, CommitStore, CommittedState } from '../api/store.ts'
import type { StoredWindow, WindowState } from '../api/window-state.ts'
import type { DeadLetterWriter, RejectedRow, TableBatch, TableWriter } from '../api/writer.ts'
import type { PartitionOwnership, ReadLimits, Source } from '../api/source.ts'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nullLogger } from '../api/component.ts'
import { SluiceError } from '../errors.ts'
import { CircuitBreaker } from '../reliability/circuit-breaker.ts'
import { type DeadLetterShaper, DeadLetterTables } from '../reliability/dlq.ts'
import type { KeyedState, StateScope } from '../api/keyed-state.ts'
import type { AggregateSpec } from './aggregate.ts'
import { latenessRule } from './lateness-rule.ts'
import type { DeduplicateOptions } from './deduplicate.ts'
import type { WindowAppendOptions } from './window-append.ts'
import type { OutputMode } from '../config/types.ts'
import { BatchRunner } from './batch-runner.ts'
import type { CommitParts } from './commit.ts'
import { CheckpointLog } from './checkpoint.ts'
import { EngineEvents } from './events.ts'
import { Query } from './query.ts'
import { type TriggerMode, TriggerPolicy } from './trigger.ts'

/**
 * A source over arrays of JSON values, one array per partition `p/<n>`. Tests may push onto the
 * arrays (or call append) to add data; plan() honours maxRecords and maxBytes (value bytes, at
 * least one record a batch); after close() it refuses to plan or read, as the Source contract says.
 */
export class MemorySource implements Source {
  readonly partitions: string[][]
  #next = 0
  #closed = false

  constructor(partitions: string[][]) {
    this.partitions = partitions
  }

  /** Adds records: to one partition, or spread over the partitions in turn. */
  append(values: readonly string[], partition?: number): void {
    for (const value of values) {
      const i = partition ?? this.#next++ % this.partitions.length
      const records = this.partitions[i]
      if (!records) throw new Error(`MemorySource has no partition ${i}`)
      records.push(value)
    }
  }

  async open(): Promise<void> {
    this.#checkOpen()
  }
  async close(): Promise<void> {
    this.#closed = true
  }

  async initialPosition(): Promise<Position> {
    this.#checkOpen()
    return Object.fromEntries(this.partitions.map((_, i) => [`p/${i}`, '0']))
  }

  async latest(): Promise<Position> {
    this.#checkOpen()
    return Object.fromEntries(this.partitions.map((p, i) => [`p/${i}`, String(p.length)]))
  }

  /** Whether plan() covers this partition (all of them here; an owned subset in OwnedMemorySource). */
  protected plans(_key: string): boolean {
    return true
  }

  async plan(from: Position, limits: ReadLimits): Promise<Position | null> {
    this.#checkOpen()
    let records = limits.maxRecords ?? Number.POSITIVE_INFINITY
    let bytes = limits.maxBytes ?? Number.POSITIVE_INFINITY
    let taken = 0
    const end: Record<string, string> = {}
    this.partitions.forEach((values, i) => {
      const key = `p/${i}`
      if (!this.plans(key)) return
      const start = Number(from[key] ?? 0)
      let o = start
      for (; o < values.length && records > 0; o++) {
        const size = Buffer.byteLength(values[o] ?? '')
        if (taken > 0 && size > bytes) break
        records--
        bytes -= size
        taken++
      }
      if (o > start) end[key] = String(o)
    })
    return Object.keys(end).length > 0 ? end : null
  }

  async *read(from: Position, to: Position): AsyncIterable<SourceRecord[]> {
    this.#checkOpen()
    for (const [key, endText] of Object.entries(to)) {
      const i = Number(key.slice(2))
      const records = this.partitions[i] ?? []
      const chunk: SourceRecord[] = []
      for (let o = Number(from[key] ?? 0); o < Number(endText); o++) {
        chunk.push({
          partition: key,
          topic: 'mem',
          partitionNumber: i,
          offset: String(o),
          key: null,
          value: Buffer.from(records[o] ?? 'null'),
          timestamp: 1_000 + o,
          headers: [],
        })
      }
      this.#checkOpen()
      yield chunk
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new SluiceError('SHUTDOWN', 'the memory source is closed')
  }
}

/**
 * A memory source shared by workers: each instance owns the partitions `assign` gave it (as a
 * consumer group would) and plans only those; a revocation awaits the engine's hook first.
 */
export class OwnedMemorySource extends MemorySource {
  #owned = new Set<string>()
  #generation = 0
  #hook: (revoked: readonly string[]) => Promise<void> = async () => {}

  readonly ownership: PartitionOwnership = ((source: OwnedMemorySource) => ({
    owned: () => source.#owned,
    get generation(): number {
      return source.#generation
    },
    onRevoke: (hook: (revoked: readonly string[]) => Promise<void>) => {
      source.#hook = hook
    },
  }))(this)

  /** Moves ownership to `keys`: the hook runs for the partitions taken away before they go. */
  async assign(keys: readonly string[]): Promise<void> {
    const revoked = [...this.#owned].filter((k) => !keys.includes(k))
    if (revoked.length > 0) await this.#hook(revoked)
    this.#owned = new Set(keys)
    this.#generation++
  }

  protected override plans(key: string): boolean {
    return this.#owned.has(key)
  }
}

/** The in-memory batch transaction: what the writers staged, applied only when the store commits. */
export interface MemoryTx {
  readonly rows: Array<{ readonly values: Record<string, unknown>; readonly merge: TableBatch['merge'] }>
  readonly deletes: Record<string, unknown>[]
  readonly side: Record<string, Record<string, unknown>[]>
  readonly merges: TableBatch['merge'][]
  /** Keyed state written by the transaction (scope|key -> expiry; null: forgotten), applied at commit. */
  readonly state: Map<string, number | null>
  /** Window state written by the transaction (scope|key -> window; null: closed), applied at commit. */
  readonly windows: Map<string, StoredWindow | null>
  /** Releases the pipeline's window lock (taken by lockWatermark) when the transaction ends. */
  unlock?: () => void
}

/**
 * A commit store, a table writer and a dead-letter writer over memory, with the tracker, fence and
 * position semantics of the contracts (api/store.ts, api/writer.ts): a batch commits atomically.
 * A row whose `reject` field is true is refused by the table writer (RECORD_COLUMN).
 */
export class MemorySink {
  readonly rows: Record<string, unknown>[] = []
  /** upsert: rows replace (or, with merge rules, merge into) the stored row of their `keys`. */
  readonly #mode: { readonly writeMode: 'append' | 'upsert'; readonly keys: readonly string[] }

  constructor(mode: { writeMode?: 'append' | 'upsert'; keys?: readonly string[] } = {}) {
    this.#mode = { writeMode: mode.writeMode ?? 'append', keys: mode.keys ?? ['id'] }
  }

  readonly side: Record<string, Record<string, unknown>[]> = {}
  readonly tracker = new Map<number, number>()
  position: Record<string, string> = {}
  watermarkMs: number | null = null
  /** Per partition: the largest committed event time, and when its position last moved (per-partition watermark). */
  readonly eventTimes = new Map<string, { maxMs: number | null; movedAt: number }>()
  #pendingEventTimes = new Map<string, { maxMs: number | null; movedAt: number }>()
  /** The store's clock (idleness of partitions). */
  now: () => number = Date.now
  /** Errors thrown by the next commit attempts, in order. */
  failures: SluiceError[] = []
  /** When set, the next commit commits and then reports a lost connection (its COMMIT reply was lost). */
  loseNextCommitReply = false
  attempts: number[] = []
  /** The merge rules of each committed batch (the aggregate step), in order. */
  merges: TableBatch['merge'][] = []
  /** Errors thrown by the next open() calls, in order. */
  openFailures: SluiceError[] = []

  readonly store: CommitStore<MemoryTx> = {
    open: async () => {
      const failure = this.openFailures.shift()
      if (failure) throw failure
    },
    close: async () => {},
    ping: async () => {},
    trackerSize: async () => this.tracker.size,
    committedState: async (): Promise<CommittedState | null> => {
      if (this.tracker.size === 0) return null
      return { batchId: Math.max(...this.tracker.keys()), position: { ...this.position }, watermarkMs: this.watermarkMs }
    },
    commit: async <T,>(mark: BatchMark, work: (tx: MemoryTx, batchId: BatchIdOf) => Promise<T>, settle?: CommitSettle<MemoryTx>): Promise<CommitOutcome<T>> => {
      this.attempts.push(mark.batchId)
      const failure = this.failures.shift()
      if (failure) throw failure
      if (mark.exactlyOnce && !mark.shared && this.tracker.has(mark.batchId)) return { status: 'duplicate' }
      if (mark.exactlyOnce) {
        const keys = Object.keys(mark.end)
        if (mark.shared && keys.length > 0 && keys.every((p) => this.position[p] === mark.end[p])) return { status: 'duplicate' }
        for (const p of keys) {
          const stored = this.position[p]
          if (stored !== undefined && stored !== mark.start[p]) throw new SluiceError('SINK_FENCED', `fenced on ${p}`)
        }
      }
      // A shared pipeline's id is the next of the store's (taken inside the "transaction").
      const batchId = mark.shared ? (this.tracker.size === 0 ? 0 : Math.max(...this.tracker.keys()) + 1) : mark.batchId
      const tx: MemoryTx = { rows: [], side: {}, merges: [], deletes: [], state: new Map(), windows: new Map() }
      let watermarkMs: number | null
      let value: T
      try {
        value = await work(tx, async () => batchId)
        // The watermark the batch commits, for settle; stored only when everything succeeded.
        watermarkMs = mark.exactlyOnce ? this.#nextWatermark(mark) : this.watermarkMs
        if (mark.exactlyOnce && settle) await settle(tx, batchId, watermarkMs)
      } catch (err) {
        tx.unlock?.()
        throw err
      }
      this.#apply(tx)
      for (const [table, rows] of Object.entries(tx.side)) (this.side[table] ??= []).push(...rows)
      this.merges.push(...tx.merges)
      for (const [k, v] of tx.state) {
        if (v === null) this.keyed.delete(k)
        else this.keyed.set(k, v)
      }
      for (const [k, v] of tx.windows) {
        if (v === null) this.windowStates.delete(k)
        else this.windowStates.set(k, v)
      }
      if (mark.exactlyOnce) {
        this.tracker.set(batchId, mark.recordCount)
        this.position = { ...this.position, ...mark.end }
        this.watermarkMs = watermarkMs
        for (const [p, e] of this.#pendingEventTimes) this.eventTimes.set(p, e)
      }
      tx.unlock?.()
      if (this.loseNextCommitReply) {
        this.loseNextCommitReply = false
        throw new SluiceError('SINK_UNAVAILABLE', 'connection lost while waiting for the COMMIT reply')
      }
      return { status: 'committed', value, batchId, ...(mark.exactlyOnce ? { watermarkMs: this.watermarkMs } : {}) }
    },
  }

  /**
   * The watermark stored with a batch: as the PostgreSQL store computes it (never back;
   * per-partition rule). Pure: the partitions' event times it would store are applied at commit.
   */
  #nextWatermark(mark: BatchMark): number | null {
    const at = this.now()
    const times = new Map(this.eventTimes)
    for (const p of Object.keys(mark.end)) {
      const seen = mark.eventTimes?.[p]
      const was = times.get(p)?.maxMs ?? null
      times.set(p, { maxMs: seen === undefined ? was : Math.max(was ?? seen, seen), movedAt: at })
    }
    this.#pendingEventTimes = times
    const rule = mark.partitionWatermark
    let proposed = mark.nextWatermarkMs
    if (rule !== undefined) {
      const active = [...times.values()].filter((e) => e.maxMs !== null && (rule.idleMs === null || e.movedAt > at - rule.idleMs))
      proposed = active.length === 0 ? null : Math.min(...active.map((e) => e.maxMs as number)) - rule.delayMs
    }
    if (proposed === null) return this.watermarkMs
    return this.watermarkMs === null ? proposed : Math.max(this.watermarkMs, proposed)
  }

  readonly table: TableWriter<MemoryTx> = {
    open: async () => {},
    write: async (tx, batch, isolate) => {
      const rejected = batch.rows.filter((r) => r.values.reject === true).map((row) => ({ row, error: new SluiceError('RECORD_COLUMN', 'rejected by the test sink') }))
      if (rejected.length > 0 && !isolate) throw (rejected[0] as RejectedRow).error
      const good = batch.rows.filter((r) => r.values.reject !== true)
      tx.rows.push(...good.map((r) => ({ values: r.values, merge: batch.merge })))
      tx.merges.push(batch.merge)
      if (this.#mode.writeMode === 'upsert') tx.deletes.push(...(batch.deletes ?? []), ...(batch.removed ?? []))
      return { written: good.length, rejected }
    },
  }

  /** Applies a committed transaction's rows: appended, or upserted / merged / deleted by key. */
  #apply(tx: MemoryTx): void {
    if (this.#mode.writeMode === 'append') {
      this.rows.push(...tx.rows.map((r) => r.values))
      return
    }
    const keyOf = (v: Record<string, unknown>): string => JSON.stringify(this.#mode.keys.map((k) => v[k]))
    for (const { values: next, merge } of tx.rows) {
      const at = this.rows.findIndex((r) => keyOf(r) === keyOf(next))
      if (at < 0) this.rows.push(next)
      else this.rows[at] = merge === undefined ? next : mergeRow(this.rows[at] as Record<string, unknown>, next, merge)
    }
    for (const d of tx.deletes) {
      const at = this.rows.findIndex((r) => keyOf(r) === keyOf(d))
      if (at >= 0) this.rows.splice(at, 1)
    }
  }

  /** Dead letters shaped as the runtime shapes them (DLQ and late tables), staged in the transaction. */
  deadLetters(shaper: DeadLetterShaper = defaultShaper()): DeadLetterWriter<MemoryTx> {
    return {
      write: async (tx, batchId, dead, late) => {
        for (const out of shaper.sideOutputs(batchId, dead, late)) (tx.side[out.table] ??= []).push(...out.rows)
      },
    }
  }

  /** Committed keyed state: `<pipeline>|<step>|<key>` -> expiry. */
  readonly keyed = new Map<string, number>()

  /** Keyed state as the PostgreSQL store keeps it (claim / evict / forget), staged in the transaction. */
  readonly state: KeyedState<MemoryTx> = ((sink: MemorySink) => {
    const id = (scope: StateScope, key: string): string => `${scope.pipelineId}|${scope.step}|${key}`
    const staged = (tx: MemoryTx): Map<string, number | null> => tx.state
    const current = (tx: MemoryTx, k: string): number | undefined => {
      const s = staged(tx)
      if (s.has(k)) return s.get(k) ?? undefined
      return sink.keyed.get(k)
    }
    return {
      claim: async (tx, scope, entries, expiredAt, renew) => {
        const fresh = new Set<string>()
        for (const [key, expiry] of entries) {
          const k = id(scope, key)
          const was = current(tx, k)
          if (was === undefined || (expiredAt !== null && was <= expiredAt)) {
            fresh.add(key)
            staged(tx).set(k, expiry)
          } else if (renew) staged(tx).set(k, expiry)
        }
        return fresh
      },
      evict: async (tx, scope, expiredAt) => {
        const prefix = id(scope, '')
        const keys = new Set([...sink.keyed.keys(), ...staged(tx).keys()])
        for (const k of keys) {
          const v = current(tx, k)
          if (k.startsWith(prefix) && v !== undefined && v <= expiredAt) staged(tx).set(k, null)
        }
      },
      forget: async (tx, scope, keys) => {
        for (const key of keys) staged(tx).set(id(scope, key), null)
      },
    }
  })(this)

  /** The pipeline's window lock: resolved when the transaction holding it ends. */
  windowLock: Promise<void> = Promise.resolve()

  /** Committed window state: `<pipeline>|<step>|<key>` -> the open window. */
  readonly windowStates = new Map<string, StoredWindow>()

  /** Window state as the PostgreSQL store keeps it, staged in the transaction. */
  readonly windows: WindowState<MemoryTx> = ((sink: MemorySink) => {
    const id = (scope: StateScope, key: string): string => `${scope.pipelineId}|${scope.step}|${key}`
    const current = (tx: MemoryTx, k: string): StoredWindow | undefined => (tx.windows.has(k) ? (tx.windows.get(k) ?? undefined) : sink.windowStates.get(k))
    const live = (tx: MemoryTx, scope: StateScope): StoredWindow[] => {
      const prefix = id(scope, '')
      const keys = new Set([...sink.windowStates.keys(), ...tx.windows.keys()].filter((k) => k.startsWith(prefix)))
      return [...keys].map((k) => current(tx, k)).filter((w): w is StoredWindow => w !== undefined)
    }
    return {
      lockWatermark: async (tx) => {
        // As the store's advisory lock: one transaction at a time does window work, until it ends.
        if (tx.unlock === undefined) {
          const previous = sink.windowLock
          let release: () => void = () => {}
          sink.windowLock = new Promise<void>((resolve) => (release = resolve))
          tx.unlock = release
          await previous
        }
        return sink.watermarkMs
      },
      load: async (tx, scope, keys) => {
        const out = new Map<string, unknown>()
        for (const key of keys) {
          const w = current(tx, id(scope, key))
          if (w !== undefined) out.set(key, JSON.parse(JSON.stringify(w.state)))
        }
        return out
      },
      loadPrefixed: async (tx, scope, prefixes) => live(tx, scope).filter((w) => prefixes.some((p) => w.key.startsWith(p))).map((w) => ({ ...w, state: JSON.parse(JSON.stringify(w.state)) })),
      save: async (tx, scope, windows) => {
        for (const w of windows) tx.windows.set(id(scope, w.key), { key: w.key, endMs: w.endMs, state: JSON.parse(JSON.stringify(w.state)), expiresMs: w.expiresMs ?? null })
      },
      delete: async (tx, scope, keys) => {
        for (const key of keys) tx.windows.set(id(scope, key), null)
      },
      close: async (tx, scope, watermarkMs, nowMs) => {
        const closed = live(tx, scope).filter((w) => (watermarkMs !== null && w.endMs <= watermarkMs) || (nowMs !== null && w.expiresMs !== undefined && w.expiresMs !== null && w.expiresMs < nowMs))
        for (const w of closed) tx.windows.set(id(scope, w.key), null)
        return closed.sort((a, b) => a.endMs - b.endMs || (a.key < b.key ? -1 : 1))
      },
      count: async (tx, scope) => live(tx, scope).length,
    }
  })(this)

  /** The parts the engine commits through. */
  parts(deadLetters: DeadLetterWriter<MemoryTx> = this.deadLetters()): CommitParts<MemoryTx> {
    return { store: this.store, table: this.table, deadLetters, state: this.state, windows: this.windows }
  }
}

/** The stored row merged with a new partial row by the aggregate step's rules (as the PostgreSQL merge does). */
function mergeRow(stored: Record<string, unknown>, next: Record<string, unknown>, merge: NonNullable<TableBatch['merge']>): Record<string, unknown> {
  const out = { ...stored, ...next }
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
  for (const [column, rule] of Object.entries(merge)) {
    const a = num(stored[column])
    const b = num(next[column])
    if (rule === 'count' || rule === 'sum') out[column] = a === null ? b : b === null ? a : a + b
    else if (rule === 'min' || rule === 'max') out[column] = a === null ? b : b === null ? a : rule === 'min' ? Math.min(a, b) : Math.max(a, b)
  }
  for (const [column, rule] of Object.entries(merge)) {
    if (rule !== 'avg') continue
    const sum = num(out[`${column}__sum`])
    const count = num(out[`${column}__count`])
    out[column] = sum === null || !count ? null : sum / count
  }
  return out
}

function defaultShaper(): DeadLetterShaper {
  return new DeadLetterTables({ pipelineId: 'p', dlq: { kind: 'table', table: 'dlq' }, late: { kind: 'table', table: 'late' } })
}

/** A Query over a memory source and sink, wired like runtime/assemble.ts does (short retries, DLQ and late tables). */
export async function memoryQuery(source: MemorySource, sink: MemorySink, options: { trigger?: TriggerMode; maxRecords?: number; failFast?: boolean; dir?: string; watermarkDelayMs?: number; perPartitionWatermark?: boolean; outputMode?: OutputMode; deduplicate?: DeduplicateOptions; events?: EngineEvents; aggregate?: AggregateSpec; windowAppend?: WindowAppendOptions; deadLetters?: DeadLetterWriter<MemoryTx> } = {}) {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'sluice-query-')))
  const events = options.events ?? new EngineEvents()
  const seen: string[] = []
  events.on((name, payload) => seen.push(`${name}${'batchId' in payload ? `:${payload.batchId}` : ''}`))
  const breaker = new CircuitBreaker({ enabled: true, failureThreshold: 100, resetTimeoutSeconds: 0.01 })
  const runner = new BatchRunner<MemoryTx>({
    pipelineId: 'p',
    source,
    commit: sink.parts(options.deadLetters),
    exactlyOnce: true,
    checkpointLocation: dir,
    retry: { strategy: 'fixed', maxAttempts: 3, initialDelaySeconds: 0.001, maxDelaySeconds: 0.001 },
    breaker,
    breakerEnabled: true,
    recordPath: { validator: null, transform: null, watermark:
        options.watermarkDelayMs === undefined
          ? null
          : {
              column: 'event_time',
              delayMs: options.watermarkDelayMs,
              ...(options.perPartitionWatermark === undefined ? {} : { perPartition: options.perPartitionWatermark }),
              // As assemble.ts decides it: Spark's rule for the aggregate step in the output mode.
              lateness: latenessRule(options.aggregate ?? options.windowAppend?.spec, options.outputMode ?? (options.aggregate ? 'update' : 'append'), 'event_time'),
            },
      deleteKeys: null,
    },
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
    ...(options.windowAppend ? { windowAppend: options.windowAppend } : {}),
    ...(options.deduplicate ? { deduplicate: options.deduplicate } : {}),
    lateStrategy: 'sendtodlq',
    failFast: options.failFast ?? false,
    events,
    logger: nullLogger,
  })
  const query = new Query<MemoryTx>({
    pipelineId: 'p',
    source,
    store: sink.store,
    table: sink.table,
    checkpoint: new CheckpointLog(dir),
    trigger: new TriggerPolicy(options.trigger ?? { type: 'availablenow' }),
    limits: options.maxRecords ? { maxRecords: options.maxRecords } : {},
    exactlyOnce: true,
    runner,
    events,
    logger: nullLogger,
  })
  const never = new AbortController().signal
  return { query, dir, seen, run: () => query.run(never, never) }
}

