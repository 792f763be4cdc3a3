/**
 * A first conversation with a Kafka cluster at start-up, so that a refused login or certificate is
 * found when the pipeline starts, not at its first dead letter hours later. Only a permanent
 * refusal fails; a cluster that is merely down is logged and left to the relay's retries.
 */
import type { Logger } from '../../api/component.ts'
import { createAdmin } from './clients.ts'
import type { KafkaConnection } from './connection.ts'
import { kafkaFailure, type KafkaSide } from './failure.ts'

/** Throws SOURCE_AUTH / DLQ_AUTH when the cluster refuses `connection`; resolves otherwise. */
export async function preflightKafka(connection: KafkaConnection, side: KafkaSide, clientId: string, logger: Logger): Promise<void> {
  const admin = createAdmin(connection, { clientId, connectTimeoutMs: 5_000, requestTimeoutMs: 10_000, retries: 0 })
  try {
    await admin.metadata({ topics: [] })
  } catch (err) {
    const e = await kafkaFailure(err, side === 'dlq' ? 'connecting to the dead-letter cluster' : 'connecting', side, connection)
    if (!e.retryable) throw e
    logger.warn({ err: e.message }, 'the Kafka cluster cannot be reached at start; publishing is retried later')
  } finally {
    await admin.close().catch(() => {})
  }
}
