/**
 * Recovery read of the outbox relay: which outbox rows of a pipeline are already in Kafka. The relay
 * publishes a round in one Kafka transaction and deletes the rows afterwards; a crash between the
 * Kafka commit and the DELETE leaves rows that are published but still pending. Before publishing
 * again, the relay reads (read_committed) the destination topics from shortly before the oldest
 * pending row was created up to their last stable offset, and collects the identities of the
 * records this pipeline published. An identity is the `sluice.outbox.id` header (`<batch>:<seq>`)
 * plus `sluice.failed.at` (the row's creation time): a pipeline whose batch ids restarted from 0
 * (checkpoint and tracker reset) reuses outbox ids, but never with the same creation time.
 */
import type { Logger } from '../../../api/component.ts'
import { createAdmin, readerSettings, type ReaderSettings } from '../clients.ts'
import type { KafkaConnection } from '../connection.ts'
import { KafkaClient } from '../../sources/kafka/client.ts'
import { type ReadPartition, readPartitions } from '../../sources/kafka/reader.ts'

/** The header naming the outbox row a Kafka record was published from: `<batch_id>:<seq>`. */
export const OUTBOX_ID_HEADER = 'sluice.outbox.id'

/**
 * How far before the oldest pending row the scan starts. Records are stamped with the relay's clock
 * at publication, which is after the row's creation on the same clock; the margin covers a clock
 * that stepped back or a topic stamped by the broker (LogAppendTime) on another host.
 */
export const SCAN_MARGIN_MS = 10 * 60 * 1000

/** The identity of a published outbox row. */
export function outboxIdentity(batchId: string | number | bigint, seq: number, failedAtIso: string): string {
  return `${batchId}:${seq}|${failedAtIso}`
}

/** The relay's reads (read_committed, group-less): shorter timeouts, larger fetches than the source's. */
export function relayReadSettings(connection: KafkaConnection, clientId: string): ReaderSettings {
  return readerSettings(connection, { clientId, connectTimeoutMs: 5_000, requestTimeoutMs: 15_000, fetchMaxBytes: 16 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024, isolationLevel: 1 })
}

/**
 * Identities of the records `pipelineId` published to `topics` (committed transactions only) with a
 * timestamp at or after `sinceMs` minus SCAN_MARGIN_MS. Topics that do not exist are skipped.
 */
export async function publishedIdentities(
  settings: ReaderSettings,
  topics: readonly string[],
  pipelineId: string,
  sinceMs: number,
  logger: Logger,
  signal: AbortSignal,
): Promise<Set<string>> {
  const found = new Set<string>()
  const client = new KafkaClient(settings)
  const admin = createAdmin(settings.connection, { clientId: settings.clientId, connectTimeoutMs: settings.connectTimeoutMs, requestTimeoutMs: settings.requestTimeoutMs })
  try {
    // A topic that does not exist holds nothing of ours (the metadata request would fail on it).
    let existing: Set<string>
    try {
      existing = new Set(await admin.listTopics())
    } catch (err) {
      throw await client.failure(err, 'listing topics')
    }
    const parts = await client.describeTopics(topics.filter((t) => existing.has(t)))
    if (parts.length === 0) return found
    const latest = await client.offsets(parts, 'latest')
    const byTopic = new Map<string, { partitionIndex: number; timestamp: bigint }[]>()
    const since = BigInt(Math.max(0, sinceMs - SCAN_MARGIN_MS))
    for (const p of parts) {
      const list = byTopic.get(p.topic) ?? []
      list.push({ partitionIndex: p.partition, timestamp: since })
      byTopic.set(p.topic, list)
    }
    let listed
    try {
      listed = await admin.listOffsets({ topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })), isolationLevel: 1 })
    } catch (err) {
      throw await client.failure(err, 'listing offsets by time')
    }
    const start = new Map<string, bigint>()
    for (const t of listed) for (const p of t.partitions) start.set(`${t.name}\u0000${p.partitionIndex}`, p.offset)
    const reads: ReadPartition[] = []
    for (const info of parts) {
      const from = start.get(`${info.topic}\u0000${info.partition}`) ?? -1n
      const to = latest.get(info.key) ?? 0n
      // -1: no record at or after the time, so none of this pipeline's pending rows can be there.
      if (from >= 0n && from < to) reads.push({ info, next: from, to, idle: 0 })
    }
    let scanned = 0
    for await (const chunk of readPartitions(client, reads, { failOnDataLoss: false, logger, signal })) {
      for (const record of chunk) {
        scanned++
        let id: string | undefined
        let pipeline: string | undefined
        let failedAt: string | undefined
        for (const [name, value] of record.headers) {
          if (name === OUTBOX_ID_HEADER) id = value.toString('utf8')
          else if (name === 'sluice.pipeline.id') pipeline = value.toString('utf8')
          else if (name === 'sluice.failed.at') failedAt = value.toString('utf8')
        }
        if (id !== undefined && failedAt !== undefined && pipeline === pipelineId) found.add(`${id}|${failedAt}`)
      }
    }
    logger.debug({ topics, scanned, published: found.size }, 'outbox relay: read the destination topics for already published rows')
    return found
  } finally {
    await Promise.allSettled([client.close(), admin.close()])
  }
}
