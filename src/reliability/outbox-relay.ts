/**
 * The Kafka DLQ outbox relay. Dead letters and late records bound for Kafka are committed with their
 * batch into `sluice_dlq_outbox` (dlq.ts); after each batch commit this relay publishes the
 * pipeline's pending rows in (batch_id, seq) order and deletes them:
 *
 *   one round = BEGIN (Kafka) -> send up to `roundRows` rows, each with the header
 *   `sluice.outbox.id: <batch_id>:<seq>` -> COMMIT (Kafka) -> DELETE the rows up to the last one sent.
 *
 * The producer is idempotent and transactional with the stable id `sluice-dlq-<pipelineId>`: a new
 * incarnation (restart, or a fresh producer after a failure) fences the old one and makes the
 * coordinator finish or abort whatever transaction the old one left open. Right after that, before
 * publishing, the relay reads the destination topics read_committed (outbox-tail.ts) and deletes the
 * pending rows it finds already published: the crash-between-commit-and-delete case. So a DLQ
 * record reaches the topic once, for consumers reading read_committed (see docs/dead-letters.md).
 *
 * Kafka being down never blocks the pipeline for long: a failed attempt is logged by the batch
 * runner, and the next attempt waits for a later batch after a growing backoff (1 s .. 60 s). At
 * shutdown `close` makes a last attempt whatever the backoff.
 */
import { readFileSync } from 'node:fs'
import { Producer } from '@platformatic/kafka'
import type { Logger } from '../api/component.ts'
import { sqlState } from '../components/sinks/postgres/classify-error.ts'
import type { PgDriver } from '../components/sinks/postgres/driver.ts'
import { quoteName } from '../components/sinks/postgres/sql/quote.ts'
import type { DeadLetterRouter } from '../engine/batch-runner.ts'
import { failpoint } from '../failpoint.ts'
import { SluiceError, toSluiceError } from '../errors.ts'
import { decodeHeaders } from './dlq-record.ts'
import { OUTBOX_TABLE } from './dlq.ts'
import { OUTBOX_ID_HEADER, outboxIdentity, publishedIdentities, relayReadSettings } from './outbox-tail.ts'
import { type TopicCreation, ensureTopics } from './outbox-topics.ts'

export interface OutboxRelayOptions {
  readonly pipelineId: string
  readonly bootstrapBrokers: string[]
  /** The sink database once the sink is open: its driver and the schema of the outbox table. */
  readonly database: () => { readonly driver: PgDriver; readonly schema: string }
  readonly logger: Logger
  /** How a destination topic that does not exist yet is created (default: the broker's defaults). */
  readonly topicCreation?: TopicCreation
  /** Rows per Kafka transaction (default 500). */
  readonly roundRows?: number
  readonly now?: () => number
}

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

/**
 * The brokers the relay publishes to: the Kafka DLQ's `bootstrapServers`, else (a late-data topic
 * next to a PostgreSQL DLQ) the Kafka source's brokers.
 */
export function relayBrokers(dlqServers: string | undefined, sourceServers: string | undefined): string[] {
  const servers = dlqServers ?? sourceServers
  if (servers === undefined) {
    throw new SluiceError('CONFIG_INVALID', 'late records go to a Kafka topic, but there is no Kafka to publish to: use dlqConfig with dlqType kafka, a Kafka source, or lateDataConfig.separateTable', {
      details: { path: 'streamingConfigJson.lateDataConfig' },
    })
  }
  const list = servers.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (list.length === 0) throw new SluiceError('CONFIG_INVALID', 'dlqConfig.bootstrapServers: expected "host:port[,host:port...]"', { details: { path: 'errorHandlingConfig.dlqConfig.bootstrapServers' } })
  return list
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
    this.#running = this.#attempt(signal)
    try {
      const n = await this.#running
      this.#failures = 0
      this.#notBefore = 0
      return n
    } catch (err) {
      this.#failures++
      this.#notBefore = now + Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.#failures - 1))
      await this.#dropProducer()
      const e = toSluiceError(err, 'DLQ_UNAVAILABLE')
      throw e.code === 'DLQ_UNAVAILABLE' || e.code === 'SINK_UNAVAILABLE' || e.code === 'SINK_TIMEOUT'
        ? e
        : new SluiceError('DLQ_UNAVAILABLE', `dead-letter outbox relay failed: ${e.message}`, { cause: e })
    } finally {
      this.#running = null
    }
  }

  /** A last attempt (whatever the backoff), then the producer is closed. Never throws. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
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
    const clientId = `${relayTransactionalId(this.#o.pipelineId)}-admin`
    await ensureTopics({ bootstrapBrokers: this.#o.bootstrapBrokers, clientId }, topics, this.#o.topicCreation ?? {}, this.#log, signal)
    for (const t of topics) this.#ensured.add(t)
  }

  /** Deletes pending rows that are already in Kafka; returns how many. */
  async #removePublished(driver: PgDriver, table: string, signal: AbortSignal): Promise<number> {
    const pipelineId = this.#o.pipelineId
    const r = await driver.query<{ batch_id: string; seq: number; topic: string; created_at: Date }>(sql('outbox-identities', table), [pipelineId])
    if (r.rows.length === 0) return 0
    const topics = [...new Set(r.rows.map((row) => row.topic))]
    const oldest = Math.min(...r.rows.map((row) => row.created_at.getTime()))
    const settings = relayReadSettings(this.#o.bootstrapBrokers, `${relayTransactionalId(pipelineId)}-check`)
    const published = await publishedIdentities(settings, topics, pipelineId, oldest, this.#log, signal)
    const done = r.rows.filter((row) => published.has(outboxIdentity(row.batch_id, row.seq, row.created_at.toISOString())))
    if (done.length === 0) return 0
    await driver.query(sql('outbox-delete-ids', table), [pipelineId, done.map((d) => d.batch_id), done.map((d) => d.seq)])
    return done.length
  }

  #producerFor(): Producer {
    if (this.#producer) return this.#producer
    const id = relayTransactionalId(this.#o.pipelineId)
    this.#producer = new Producer({
      clientId: id,
      bootstrapBrokers: this.#o.bootstrapBrokers,
      transactionalId: id,
      idempotent: true,
      acks: -1,
      // Also the transaction timeout: an open transaction of a relay that died blocks read_committed
      // readers of the DLQ topic at most this long (a restarted relay aborts it at once).
      timeout: 30_000,
      connectTimeout: 5_000,
      retries: 3,
      retryDelay: 500,
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

/** `router` whose afterCommit runs the relay (and whose close makes the relay's last attempt). */
export function relayingRouter(router: DeadLetterRouter, relay: OutboxRelay): DeadLetterRouter {
  return {
    sideOutputs: (batchId, dead, late) => router.sideOutputs(batchId, dead, late),
    async afterCommit(signal) {
      await router.afterCommit?.(signal)
      await relay.relay(signal)
    },
    async close() {
      await relay.close()
      await router.close?.()
    },
  }
}
