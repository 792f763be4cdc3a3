/**
 * Reads a Kafka DLQ topic for `sluice dlq list|show`: through the Kafka source itself, pointed at
 * the DLQ topic with the DLQ's connection (brokers, TLS, SASL: components/kafka/inputs.ts), so it
 * reads read_committed, by explicit offsets and without a consumer group: nothing is committed,
 * nothing on the broker changes. Only the pipeline's own dead letters (header sluice.pipeline.id)
 * are listed, oldest first (partition by partition). Dead letters still in the outbox are not on the
 * topic yet (`sluice status` counts them). What `sluice dlq replay` did with each is kept in the
 * database (dlq-replay-marks.ts); the caller passes those marks in.
 */
import type { ComponentContext } from '../api/component.ts'
import { nullLogger } from '../api/component.ts'
import type { Position } from '../api/position.ts'
import type { SourceRecord } from '../api/record.ts'
import { dlqConnectionInput } from '../components/kafka/inputs.ts'
import { sourceFor } from '../components/registry.ts'
import { extractSchema, type PipelineConfig } from '../config/index.ts'
import { SluiceError } from '../errors.ts'
import { DLQ_FIELDS } from '../reliability/dlq-record.ts'
import { OUTBOX_ID_HEADER } from '../components/kafka/outbox/tail.ts'
import { type DeadLetterEntry, type DlqFilter, type DlqListing, type ReplayState, matches, parseTopicId, topicEntryId } from './dlq-entry.ts'

type Env = Readonly<Record<string, string | undefined>>

/** The Kafka source config that reads `topic` from its earliest offset with the DLQ's connection. */
export function dlqTopicExtract(config: PipelineConfig, baseDir: string, topic: string): PipelineConfig['extract'] {
  const { input, credentialId } = dlqConnectionInput(config, baseDir)
  const parsed = extractSchema.safeParse({
    sourceType: 'kafka',
    topic,
    connectionParams: { ...input.options, 'kafka.bootstrap.servers': input.bootstrap.servers, 'kafka.isolation.level': 'read_committed', startingOffsets: 'earliest', failOnDataLoss: 'false' },
    ...(credentialId === undefined ? {} : { credentialId }),
  })
  if (!parsed.success) throw new SluiceError('CONFIG_INVALID', `the DLQ topic ${topic} cannot be read with the pipeline's Kafka settings: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  return parsed.data
}

/** An open reader of a DLQ topic: its earliest and latest (read_committed) positions, and reads between. */
export interface DlqTopicReader {
  readonly start: Position
  readonly end: Position
  read(from: Position, to: Position): AsyncIterable<SourceRecord[]>
  close(): Promise<void>
}

/** Opens a reader of the DLQ topic (failures with the DLQ's codes). */
export async function openDlqTopic(config: PipelineConfig, baseDir: string, topic: string, env: Env): Promise<DlqTopicReader> {
  const ctx: ComponentContext = { pipelineId: config.pipelineId, baseDir, logger: nullLogger, env }
  const extract = dlqTopicExtract(config, baseDir, topic)
  const source = sourceFor(extract).create(extract, ctx)
  const signal = AbortSignal.timeout(120_000)
  const close = (): Promise<void> => source.close().catch(() => {})
  try {
    await source.open(signal)
    const start = await source.initialPosition(signal)
    const end = source.latest ? await source.latest(signal) : start
    return {
      start,
      end,
      async *read(from, to) {
        try {
          yield* source.read(from, to, signal)
        } catch (err) {
          throw asDlqError(err, topic)
        }
      },
      close,
    }
  } catch (err) {
    await close()
    throw asDlqError(err, topic)
  }
}

/** Opens a reader of the DLQ topic, runs `fn`, closes it. */
async function withTopic<T>(config: PipelineConfig, baseDir: string, topic: string, env: Env, fn: (read: (from: Position, to: Position) => AsyncIterable<SourceRecord[]>, start: Position, end: Position) => Promise<T>): Promise<T> {
  const reader = await openDlqTopic(config, baseDir, topic, env)
  try {
    return await fn((from, to) => reader.read(from, to), reader.start, reader.end)
  } finally {
    await reader.close()
  }
}

/** The pipeline's dead letters on `topic` that match `filter`. */
export async function listTopicDeadLetters(config: PipelineConfig, baseDir: string, topic: string, filter: DlqFilter, env: Env, marks: ReadonlyMap<string, ReplayState> = new Map()): Promise<DlqListing> {
  return withTopic(config, baseDir, topic, env, async (read, start, end) => {
    const entries: DeadLetterEntry[] = []
    const byCode: Record<string, number> = {}
    let more = false
    for await (const chunk of read(start, end)) {
      for (const record of chunk) {
        const e = withMark(topicRecordEntry(record), marks)
        if (e === null || e.pipelineId !== config.pipelineId || !matches(e, filter)) continue
        byCode[e.code] = (byCode[e.code] ?? 0) + 1
        if (entries.length < filter.limit) entries.push(e)
        else more = true
      }
    }
    entries.sort((a, b) => a.failedAt.localeCompare(b.failedAt))
    return { where: `kafka topic ${topic}`, entries, more, byCode }
  })
}

/** One dead letter of `topic` by id (`<topic>/<partition>@<offset>`), or null. */
export async function showTopicDeadLetter(config: PipelineConfig, baseDir: string, topic: string, id: string, env: Env, marks: ReadonlyMap<string, ReplayState> = new Map()): Promise<DeadLetterEntry | null> {
  const at = parseTopicId(id)
  if (at === null || at.topic !== topic) return null
  const key = `${topic}/${at.partition}`
  return withTopic(config, baseDir, topic, env, async (read, start, end) => {
    const first = start[key]
    const last = end[key]
    if (first === undefined || last === undefined || at.offset < BigInt(first) || at.offset >= BigInt(last)) return null
    for await (const chunk of read({ [key]: String(at.offset) }, { [key]: String(at.offset + 1n) })) {
      for (const record of chunk) {
        const e = withMark(topicRecordEntry(record), marks)
        if (e !== null && record.offset === String(at.offset) && e.pipelineId === config.pipelineId) return e
      }
    }
    return null
  })
}

/** The entry with its replay mark (dlq-replay-marks.ts), when a replay tried it. */
function withMark(e: DeadLetterEntry | null, marks: ReadonlyMap<string, ReplayState>): DeadLetterEntry | null {
  const replay = e === null ? undefined : marks.get(e.id)
  return e === null || replay === undefined ? e : { ...e, replay }
}

/**
 * The reader is a Kafka source, so its failures say SOURCE_*; here the cluster is the DLQ's, and
 * the codes say so (DLQ_UNAVAILABLE, DLQ_AUTH), with the message kept.
 */
function asDlqError(err: unknown, topic: string): unknown {
  if (!(err instanceof SluiceError)) return err
  const code = err.code === 'SOURCE_UNAVAILABLE' ? 'DLQ_UNAVAILABLE' : err.code === 'SOURCE_AUTH' ? 'DLQ_AUTH' : null
  return code === null ? err : new SluiceError(code, `reading the DLQ topic ${topic}: ${err.message}`, { cause: err })
}

/** The headers Sluice adds when it publishes a dead letter: the eight fields and the outbox identity of the publication. */
const SLUICE_HEADERS = new Set<string>([...DLQ_FIELDS, OUTBOX_ID_HEADER])

/** A DLQ topic record as an entry: the sluice.* headers are its fields; null when it has none (not a Sluice dead letter). */
export function topicRecordEntry(r: SourceRecord): DeadLetterEntry | null {
  const names = SLUICE_HEADERS
  const fields = new Map<string, string>()
  for (const [name, value] of r.headers) if (names.has(name)) fields.set(name, value.toString('utf8'))
  const code = fields.get('sluice.error.code')
  if (code === undefined) return null
  return {
    id: topicEntryId(r.topic, r.partitionNumber, r.offset),
    code,
    reason: fields.get('sluice.error.reason') ?? '',
    pipelineId: fields.get('sluice.pipeline.id') ?? '',
    batchId: fields.get('sluice.batch.id') ?? '',
    failedAt: new Date(fields.get('sluice.failed.at') ?? r.timestamp).toISOString(),
    source: { topic: fields.get('sluice.source.topic') ?? '', partition: Number(fields.get('sluice.source.partition') ?? 0), offset: fields.get('sluice.source.offset') ?? '' },
    key: r.key,
    value: r.value,
    headers: r.headers.filter(([name]) => !names.has(name)),
  }
}
