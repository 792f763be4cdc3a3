/**
 * The Kafka DLQ outbox relay. Dead letters and late records bound for Kafka are committed with their
 * batch into `sluice_dlq_outbox` (reliability/dlq.ts); after each batch commit this relay publishes the
 * pipeline's pending rows in (batch_id, seq) order and deletes them:
 *
 *   one round = BEGIN (Kafka) -> send up to `roundRows` rows, each with the header
 *   `sluice.outbox.id: <batch_id>:<seq>` -> COMMIT (Kafka) -> DELETE the rows up to the last one sent.
 *
 * The producer is idempotent and transactional with the stable id `sluice-dlq-<pipelineId>`: a new
 * incarnation (restart, or a fresh producer after a failure) fences the old one and makes the
 * coordinator finish or abort whatever transaction the old one left open. Right after that, before
 * publishing, the relay reads the destination topics read_committed (tail.ts) and deletes the
 * pending rows it finds already published: the crash-between-commit-and-delete case. So a DLQ
 * record reaches the topic once, for consumers reading read_committed (see docs/dead-letters.md).
 *
 * Kafka being down never blocks the pipeline for long: a failed attempt is logged by the batch
 * runner, and the next attempt waits for a later batch after a growing backoff (1 s .. 60 s). At
 * shutdown `close` makes a last attempt whatever the backoff. Between batches (an idle stream, rows
 * left by an earlier run) a background tick retries it too. A run that ends calls `drain` first: it
 * keeps trying until the outbox is empty or the drain timeout passes, then fails with
 * DLQ_UNDELIVERED naming the rows and the broker's error, so a run never ends `ok` with rows stranded.
 * After every attempt the backlog is reported (`outbox.pending`: metric, /status, /ready).
 */
import { readFileSync } from 'node:fs'
import type { Admin, Producer } from '@platformatic/kafka'
import type { Logger } from '../../../api/component.ts'
import { createAdmin, createProducer } from '../clients.ts'
import type { KafkaConnection } from '../connection.ts'
import { describeFailure, kafkaFailure, kafkaRefused, probeTls } from '../failure.ts'
import { sqlState } from '../../sinks/postgres/classify-error.ts'
import type { PgDriver } from '../../sinks/postgres/driver.ts'
import { quoteName } from '../../sinks/postgres/sql/quote.ts'
import type { DeadLetterWriter } from '../../../api/writer.ts'
import type { EngineEvents } from '../../../engine/events.ts'
import { failpoint } from '../../../failpoint.ts'
import { SluiceError, toSluiceError } from '../../../errors.ts'
import { decodeHeaders } from '../../../reliability/dlq-record.ts'
import { OUTBOX_TABLE } from '../../../reliability/dlq.ts'
import { type OutboxBacklog, describeBacklog, outboxBacklog } from './backlog.ts'
import { abortableSleep } from '../../../reliability/retry.ts'
import { OUTBOX_ID_HEADER, outboxIdentity, publishedIdentities, relayReadSettings } from './tail.ts'
import { type TopicCreation, ensureTopics } from './topics.ts'

export interface OutboxRelayOptions {
  readonly pipelineId: string
  /** The DLQ cluster: brokers, SASL and TLS (the source's when the DLQ is on the source's cluster). */
  readonly kafka: KafkaConnection
  /** The sink database once the sink is open: its driver and the schema of the outbox table. */
  readonly database: () => { readonly driver: PgDriver; readonly schema: string }
  readonly logger: Logger
  /** How a destination topic that does not exist yet is created (default: the broker's defaults). */
  readonly topicCreation?: TopicCreation
  /** Rows per Kafka transaction (default 500). */
  readonly roundRows?: number
  /** Receives `outbox.pending` after every attempt. */
  readonly events?: EngineEvents
  readonly now?: () => number
}

/** The relay's view of its outbox, for /ready and /status. */
export interface OutboxState {
  /** Rows waiting after the last attempt (null before the first one). */
  readonly pending: number | null
  /** Since when publishing has been failing (epoch ms), null while it works. */
  readonly failingSinceMs: number | null
  readonly lastError: string | null
}

/** Collects the messages of an error and everything nested in it: the broker's own words, not only "failed 3 times". */
export const errorText: (err: unknown) => string = describeFailure

type SqlName = 'outbox-pending' | 'outbox-identities' | 'outbox-delete-upto' | 'outbox-delete-ids' | 'outbox-topics'
const sqlCache = new Map<SqlName, string>()

function sql(name: SqlName, table: string): string {
  let text = sqlCache.get(name)
  if (text === undefined) {
    text = readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8')
    sqlCache.set(name, text)
  }
  return text.replaceAll('{{table}}', table)
}

/** Bytes of record payload per produce request: well under the broker's default 1 MB batch limit. */
const SEND_BYTES = 512 * 1024
const MIN_BACKOFF_MS = 1_000
const MAX_BACKOFF_MS = 60_000

interface PendingRow {
  batch_id: string
  seq: number
  topic: string
  key: Buffer | null
  value: Buffer | null
  headers: string
}

/** The transactional id of a pipeline's relay: stable, so a zombie relay is fenced. */
export function relayTransactionalId(pipelineId: string): string {
  return `sluice-dlq-${pipelineId}`
}

/** Publishes a pipeline's outbox rows to Kafka exactly once (for read_committed consumers). */
export class OutboxRelay {
  readonly #o: OutboxRelayOptions
  readonly #log: Logger
  #producer: Producer | null = null
  /** Whether the current producer's incarnation has checked Kafka for already published rows. */
  #checked = false
  #running: Promise<number> | null = null
  #failures = 0
  #notBefore = 0
  #closed = false
  /** Destination topics known to exist (created or found), so they are not looked up every round. */
  readonly #ensured = new Set<string>()
  #backlogRows: number | null = null
  #failingSince: number | null = null
  #lastError: string | null = null
  #tick: NodeJS.Timeout | null = null
  #closing: Promise<void> | null = null

  constructor(options: OutboxRelayOptions) {
    this.#o = options
    this.#log = options.logger.child({ component: 'dlq-outbox-relay' })
  }

  /**
   * Publishes every pending row; returns how many. One attempt at a time (a concurrent call waits
   * for the running one). Inside the backoff after a failure it does nothing unless `force`.
   */
  async relay(signal: AbortSignal, force = false): Promise<number> {
    if (this.#running) return this.#running
    if (this.#closed && !force) return 0
    const now = (this.#o.now ?? Date.now)()
    if (!force && now < this.#notBefore) return 0
    const running = this.#attempt(signal)
      .then(async (n) => {
        this.#failures = 0
        this.#notBefore = 0
        this.#failingSince = null
        this.#lastError = null
        // A successful attempt ends with no pending row (rows committed since then wait for the next one).
        this.#publish({ rows: 0, topics: {}, oldestMs: null })
        return n
      })
      .catch(async (err: unknown) => {
        this.#failures++
        this.#notBefore = now + Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.#failures - 1))
        await this.#dropProducer()
        const e = await this.#classify(err)
        this.#failingSince ??= now
        this.#lastError = e.message
        await this.#report()
        throw e
      })
    this.#running = running
    try {
      return await running
    } finally {
      this.#running = null
    }
  }

  /**
   * A failed attempt as one error: a refused login or certificate is DLQ_AUTH (not retryable, naming
   * the cause: retrying cannot fix it), a database failure keeps its code, anything else is
   * DLQ_UNAVAILABLE and retried later.
   */
  async #classify(err: unknown): Promise<SluiceError> {
    let e = err instanceof SluiceError ? err : await kafkaFailure(err, 'publishing dead letters', 'dlq', this.#o.kafka)
    if (e.code === 'SOURCE_UNAVAILABLE' && this.#o.kafka.tls !== undefined) {
      // A TLS broker refusing the client's certificate only shows as "Connection closed": ask it why.
      const refused = await probeTls(this.#o.kafka)
      if (refused !== undefined) e = kafkaRefused('dlq', 'publishing dead letters', refused, e)
    }
    // The relay's reads and topic creation go through the source's client code: same cause, DLQ's code.
    if (e.code === 'SOURCE_AUTH') e = new SluiceError('DLQ_AUTH', `dead-letter outbox relay failed: ${e.message}`, { cause: e })
    if (e.code === 'DLQ_UNAVAILABLE' || e.code === 'DLQ_AUTH' || e.code === 'SINK_UNAVAILABLE' || e.code === 'SINK_TIMEOUT') return e
    return new SluiceError('DLQ_UNAVAILABLE', `dead-letter outbox relay failed: ${errorText(e)}`, { cause: e })
  }

  /** The last attempt's outcome (for /ready and /status). */
  get state(): OutboxState {
    return { pending: this.#backlogRows, failingSinceMs: this.#failingSince, lastError: this.#lastError }
  }

  /**
   * Retries the relay in the background every `intervalMs` (within the failure backoff) while rows
   * may be waiting: rows of an earlier run, or of an idle stream, do not wait for a new batch.
   * Ticks before the sink is open are skipped.
   */
  start(intervalMs = 5_000): void {
    if (this.#tick !== null || this.#closed) return
    const signal = new AbortController().signal
    this.#tick = setInterval(() => {
      if (this.#closed || this.#running !== null || this.#backlogRows === 0) return
      try {
        this.#o.database()
      } catch {
        return // the sink is not open yet
      }
      this.relay(signal).catch((err: unknown) => this.#log.warn({ err: toSluiceError(err).message }, 'dead-letter relay failed; retrying in the background'))
    }, intervalMs)
    this.#tick.unref()
  }

  /**
   * Publishes until the outbox of this pipeline is empty. Past `timeoutMs` (or when `signal`
   * aborts) it throws DLQ_UNDELIVERED naming how many rows wait, where, and the last error.
   */
  async drain(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const now = this.#o.now ?? Date.now
    const deadline = now() + timeoutMs
    let lastError: string | null = null
    // A refused login or certificate (DLQ_AUTH) does not heal by waiting out the timeout.
    let refused = false
    for (let attempt = 0; ; attempt++) {
      try {
        await this.relay(signal, true)
        lastError = null
      } catch (err) {
        const e = toSluiceError(err)
        lastError = e.message
        refused = !e.retryable
      }
      let backlog: OutboxBacklog
      try {
        const { driver, schema } = this.#o.database()
        backlog = await outboxBacklog(driver, schema, this.#o.pipelineId)
      } catch (err) {
        throw new SluiceError('DLQ_UNDELIVERED', `the outbox could not be read before exiting (${errorText(err)}); rows may still wait in ${OUTBOX_TABLE} (the next run publishes them). Last relay error: ${lastError ?? 'none'}`, { cause: err })
      }
      if (backlog.rows === 0) return
      const left = deadline - now()
      if (left <= 0 || signal.aborted || refused) throw this.#undelivered(backlog, refused ? null : timeoutMs, lastError)
      await abortableSleep(Math.min(left, Math.min(MAX_BACKOFF_MS / 6, MIN_BACKOFF_MS * 2 ** attempt)), signal)
    }
  }

  /** `timeoutMs` null: given up before the timeout, because the cluster refused the relay. */
  #undelivered(backlog: OutboxBacklog, timeoutMs: number | null, lastError: string | null): SluiceError {
    const why = lastError ?? 'the outbox is still not empty'
    const when = timeoutMs === null ? 'the cluster refused the relay' : `within ${timeoutMs / 1000} s`
    return new SluiceError(
      'DLQ_UNDELIVERED',
      `${backlog.rows} dead-letter/late record(s) not published to Kafka ${timeoutMs === null ? `(${when})` : when} (${describeBacklog(backlog)}); they stay in ${OUTBOX_TABLE} and the next run publishes them. Last error: ${why}`,
      { details: { pending: backlog.rows, topics: backlog.topics, ...(timeoutMs === null ? { refused: true } : { timeoutSeconds: timeoutMs / 1000 }) } },
    )
  }

  /** Counts the backlog and reports it; a failing count leaves the last known value. */
  async #report(): Promise<void> {
    try {
      const { driver, schema } = this.#o.database()
      this.#publish(await outboxBacklog(driver, schema, this.#o.pipelineId))
    } catch {
      // the database is away too: keep the last known backlog
    }
  }

  #publish(backlog: OutboxBacklog): void {
    this.#backlogRows = backlog.rows
    this.#o.events?.emit('outbox.pending', {
      pipelineId: this.#o.pipelineId,
      rows: backlog.rows,
      topics: backlog.topics,
      failingSinceMs: this.#failingSince,
      lastError: this.#lastError,
    })
  }

  /** A last attempt (whatever the backoff), then the producer is closed. Never throws; later calls wait for the first. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    if (this.#tick !== null) clearInterval(this.#tick)
    this.#tick = null
    try {
      await this.#running?.catch(() => {})
      const n = await this.relay(new AbortController().signal, true)
      if (n > 0) this.#log.info({ published: n }, 'dead-letter outbox relayed at shutdown')
    } catch (err) {
      this.#log.warn({ err: toSluiceError(err).message }, 'dead-letter outbox not relayed at shutdown; the rows stay in the outbox for the next run')
    }
    await this.#dropProducer()
  }

  async #attempt(signal: AbortSignal): Promise<number> {
    const { driver, schema } = this.#o.database()
    const table = quoteName(schema, OUTBOX_TABLE)
    const pipelineId = this.#o.pipelineId
    let first: PendingRow[]
    try {
      first = await this.#pending(driver, table)
    } catch (err) {
      if (sqlState(err) === '42P01') return 0 // no outbox yet: nothing was ever dead-lettered to Kafka
      throw err
    }
    if (first.length === 0) return 0
    await this.#ensureTopics(driver, table, signal)
    const producer = this.#producerFor()
    let published = 0
    let rows = first
    for (;;) {
      signal.throwIfAborted()
      // Beginning the first transaction of an incarnation runs InitProducerId: fences the previous
      // relay and completes its open transaction, so the read below sees its final outcome.
      // producerId/epoch -1 ask for a new epoch of whatever producer holds the id. The library's
      // default (0, 0) is refused with PRODUCER_FENCED once an earlier incarnation used the id.
      const tx = await producer.beginTransaction({ producerId: -1n, producerEpoch: -1 })
      if (!this.#checked) {
        const removed = await this.#removePublished(driver, table, signal)
        this.#checked = true
        if (removed > 0) {
          this.#log.warn({ rows: removed }, 'outbox rows were already in Kafka (a relay stopped between its Kafka commit and the delete); deleted, not sent again')
          rows = await this.#pending(driver, table)
        }
      }
      if (rows.length === 0) {
        await tx.cancel() // nothing was sent: the broker never heard of this transaction
        return published
      }
      const last = rows[rows.length - 1] as PendingRow
      const messages = rows.map((r) => {
        const headers = new Map<Buffer, Buffer>()
        for (const [name, value] of decodeHeaders(r.headers)) if (name !== OUTBOX_ID_HEADER) headers.set(Buffer.from(name), value)
        headers.set(Buffer.from(OUTBOX_ID_HEADER), Buffer.from(`${r.batch_id}:${r.seq}`))
        return {
          topic: r.topic,
          ...(r.key === null ? {} : { key: r.key }),
          ...(r.value === null ? {} : { value: r.value }),
          headers,
          timestamp: BigInt((this.#o.now ?? Date.now)()),
        }
      })
      let chunk: typeof messages = []
      let bytes = 0
      for (const m of messages) {
        const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 256
        if (chunk.length > 0 && bytes + size > SEND_BYTES) {
          await tx.send({ messages: chunk })
          chunk = []
          bytes = 0
        }
        chunk.push(m)
        bytes += size
      }
      if (chunk.length > 0) await tx.send({ messages: chunk })
      await failpoint('relay-before-kafka-commit', Number(last.batch_id))
      await tx.commit()
      await failpoint('relay-after-kafka-commit', Number(last.batch_id))
      await driver.query(sql('outbox-delete-upto', table), [pipelineId, last.batch_id, last.seq])
      published += rows.length
      this.#log.debug({ rows: rows.length, upTo: `${last.batch_id}:${last.seq}` }, 'outbox round published')
      rows = await this.#pending(driver, table)
      if (rows.length === 0) return published
    }
  }

  async #pending(driver: PgDriver, table: string): Promise<PendingRow[]> {
    const r = await driver.query<PendingRow>(sql('outbox-pending', table), [this.#o.pipelineId, this.#o.roundRows ?? 500])
    return r.rows
  }

  /** Creates the pending rows' destination topics that do not exist yet (a DLQ topic is new on a first run). */
  async #ensureTopics(driver: PgDriver, table: string, signal: AbortSignal): Promise<void> {
    const r = await driver.query<{ topic: string }>(sql('outbox-topics', table), [this.#o.pipelineId])
    const topics = r.rows.map((row) => row.topic).filter((t) => !this.#ensured.has(t))
    if (topics.length === 0) return
    const admin = this.#adminFor()
    try {
      await ensureTopics(admin, topics, this.#o.topicCreation ?? {}, this.#log, signal)
    } finally {
      await admin.close().catch(() => {})
    }
    for (const t of topics) this.#ensured.add(t)
  }

  /** Deletes pending rows that are already in Kafka; returns how many. */
  async #removePublished(driver: PgDriver, table: string, signal: AbortSignal): Promise<number> {
    const pipelineId = this.#o.pipelineId
    const r = await driver.query<{ batch_id: string; seq: number; topic: string; created_at: Date }>(sql('outbox-identities', table), [pipelineId])
    if (r.rows.length === 0) return 0
    const topics = [...new Set(r.rows.map((row) => row.topic))]
    const oldest = Math.min(...r.rows.map((row) => row.created_at.getTime()))
    const settings = relayReadSettings(this.#o.kafka, `${relayTransactionalId(pipelineId)}-check`)
    const published = await publishedIdentities(settings, topics, pipelineId, oldest, this.#log, signal)
    const done = r.rows.filter((row) => published.has(outboxIdentity(row.batch_id, row.seq, row.created_at.toISOString())))
    if (done.length === 0) return 0
    await driver.query(sql('outbox-delete-ids', table), [pipelineId, done.map((d) => d.batch_id), done.map((d) => d.seq)])
    return done.length
  }

  /** A short-lived admin client for creating the destination topics (same cluster as the producer). */
  #adminFor(): Admin {
    const clientId = `${relayTransactionalId(this.#o.pipelineId)}-admin`
    return createAdmin(this.#o.kafka, { clientId, connectTimeoutMs: 5_000, requestTimeoutMs: 15_000 })
  }

  #producerFor(): Producer {
    if (this.#producer) return this.#producer
    const id = relayTransactionalId(this.#o.pipelineId)
    this.#producer = createProducer(this.#o.kafka, { clientId: id, connectTimeoutMs: 5_000, retries: 3, retryDelayMs: 500 }, {
      transactionalId: id,
      idempotent: true,
      acks: -1,
      // Also the transaction timeout: an open transaction of a relay that died blocks read_committed
      // readers of the DLQ topic at most this long (a restarted relay aborts it at once).
      timeout: 30_000,
      autocreateTopics: true,
    })
    this.#checked = false
    return this.#producer
  }

  async #dropProducer(): Promise<void> {
    const p = this.#producer
    this.#producer = null
    this.#checked = false
    if (p) await p.close(true).catch(() => {})
  }
}

/** `writer` whose afterCommit runs the relay (and whose close makes the relay's last attempt). */
export function relayingWriter<Tx>(writer: DeadLetterWriter<Tx>, relay: OutboxRelay): DeadLetterWriter<Tx> {
  return {
    write: (tx, batchId, dead, late) => writer.write(tx, batchId, dead, late),
    async afterCommit(signal) {
      await writer.afterCommit?.(signal)
      await relay.relay(signal)
    },
    async close() {
      await relay.close()
      await writer.close?.()
    },
  }
}
