/** Zod schema of `errorHandlingConfig` (retry, circuit breaker, dead-letter queue, failFast). */
import * as z from 'zod'
import { tableName } from '../components/sinks/postgres/config.ts'
import { always, lenientBool, lenientEnum, lenientInt, lenientNumber, strictObject, text } from './lenient.ts'
import { bootstrapServersSchema, kafkaSecurityShape } from '../components/kafka/options.ts'
import type { DlqConfig, KafkaDlqConfig } from './types.ts'

export const retryConfigSchema = strictObject(
  {
    strategy: lenientEnum(['exponential', 'linear', 'fixed', 'none'], 'Backoff between attempts (default exponential).').default('exponential'),
    maxAttempts: lenientInt({ min: 1 }, 'Attempts including the first (default 3).').default(3),
    initialDelaySeconds: lenientNumber({ min: 0 }, 'Delay before the first retry, seconds (default 1).').default(1),
    maxDelaySeconds: lenientNumber({ min: 0 }, 'Upper bound of any delay, seconds (default 60).').default(60),
  },
  'Retries of retryable failures.',
).check(
  z.superRefine((v, ctx) => {
    if (typeof v.maxDelaySeconds === 'number' && typeof v.initialDelaySeconds === 'number' && v.maxDelaySeconds < v.initialDelaySeconds) {
      ctx.addIssue({ code: 'custom', path: ['maxDelaySeconds'], input: v.maxDelaySeconds, message: `must be >= initialDelaySeconds (${v.initialDelaySeconds})` })
    }
  }, always),
)

export const circuitBreakerConfigSchema = strictObject(
  {
    enabled: lenientBool('Whether the breaker is used (default true).').default(true),
    failureThreshold: lenientInt({ min: 1 }, 'Consecutive failures that open the breaker (default 5).').default(5),
    resetTimeoutSeconds: lenientNumber({ min: 0, exclusiveMin: true }, 'Seconds the breaker stays open before a trial (default 60).').default(60),
  },
  'Circuit breaker around the sink.',
)

/** dlqType accepts kafka and postgresql ("postgres", "pg"); fields are checked per type. */
export const dlqConfigSchema = strictObject(
  {
    dlqType: lenientEnum(['kafka', 'postgresql'], 'Where dead letters go.', { postgres: 'postgresql', pg: 'postgresql' }),
    bootstrapServers: bootstrapServersSchema(
      'Kafka bootstrap servers (dlqType kafka). When they are the Kafka source\'s, the DLQ uses the source\'s security (kafka.* options and credentialId); otherwise the kafka.* options and credentialId given here.',
    ).optional(),
    topic: text('Kafka topic (dlqType kafka).').optional(),
    table: tableName('Table in the sink database (dlqType postgresql).').optional(),
    partitions: lenientInt({ min: 1 }, 'Partitions of the DLQ and late-data topics when Sluice creates them on first use (dlqType kafka; default: the broker\'s num.partitions).').optional(),
    replicationFactor: lenientInt({ min: 1 }, 'Replication factor of the DLQ and late-data topics when Sluice creates them (dlqType kafka; default: the broker\'s default.replication.factor).').optional(),
    credentialId: text('Credential for the DLQ cluster\'s SASL login (dlqType kafka, another cluster than the source\'s; see docs/config.md#credentials).').optional(),
    ...kafkaSecurityShape,
  },
  'Dead-letter destination for records that cannot be loaded.',
).transform((v, ctx): DlqConfig => {
  const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', path: [path], input: undefined, message })
  if (v.dlqType === 'kafka') {
    if (v.bootstrapServers === undefined) issue('bootstrapServers', 'required for dlqType kafka: "host:port[,host:port]"')
    if (v.topic === undefined) issue('topic', 'required for dlqType kafka: the dead-letter topic')
    if (v.table !== undefined) issue('table', 'only used with dlqType postgresql')
    if (v.bootstrapServers === undefined || v.topic === undefined) return z.NEVER
    const out: KafkaDlqConfig = { dlqType: 'kafka', bootstrapServers: v.bootstrapServers, topic: v.topic }
    if (v.partitions !== undefined) out.partitions = v.partitions
    if (v.replicationFactor !== undefined) out.replicationFactor = v.replicationFactor
    if (v.credentialId !== undefined) out.credentialId = v.credentialId
    for (const [key, value] of Object.entries(v)) if (key.startsWith('kafka.') && typeof value === 'string') out[`kafka.${key.slice(6)}`] = value
    return out
  }
  for (const key of Object.keys(v)) if (key.startsWith('kafka.') || key === 'credentialId') issue(key, 'only used with dlqType kafka')
  if (v.table === undefined) issue('table', 'required for dlqType postgresql: the dead-letter table')
  if (v.bootstrapServers !== undefined) issue('bootstrapServers', 'only used with dlqType kafka')
  if (v.topic !== undefined) issue('topic', 'only used with dlqType kafka')
  if (v.partitions !== undefined) issue('partitions', 'only used with dlqType kafka')
  if (v.replicationFactor !== undefined) issue('replicationFactor', 'only used with dlqType kafka')
  if (v.table === undefined) return z.NEVER
  return { dlqType: 'postgresql', table: v.table }
})

/** Defaults of outboxConfig's fields (also in force when outboxConfig is absent). */
export const OUTBOX_DEFAULTS = { drainTimeoutSeconds: 60, stuckAfterSeconds: 300 } as const

export const outboxConfigSchema = strictObject(
  {
    drainTimeoutSeconds: lenientNumber(
      { min: 0 },
      'How long a run that ends (availablenow, once, mode batch, or a stop) keeps trying to publish the Kafka-bound dead letters and late records still in the outbox before it exits non-zero with DLQ_UNDELIVERED (default 60).',
    ).default(OUTBOX_DEFAULTS.drainTimeoutSeconds),
    stuckAfterSeconds: lenientNumber(
      { min: 0, exclusiveMin: true },
      'A long-running pipeline whose outbox rows could not be published for this long turns /ready to 503 (default 300).',
    ).default(OUTBOX_DEFAULTS.stuckAfterSeconds),
  },
  'The outbox of Kafka-bound dead letters and late records (docs/dead-letters.md).',
)

export const errorHandlingConfigSchema = strictObject(
  {
    retryConfig: retryConfigSchema.default({ strategy: 'exponential', maxAttempts: 3, initialDelaySeconds: 1, maxDelaySeconds: 60 }),
    circuitBreakerConfig: circuitBreakerConfigSchema.default({ enabled: true, failureThreshold: 5, resetTimeoutSeconds: 60 }),
    dlqConfig: dlqConfigSchema.optional(),
    outboxConfig: outboxConfigSchema.optional(),
    failFast: lenientBool('Stop at the first bad record instead of sending it to the DLQ (default false).').default(false),
  },
  'Error handling (the seed errorHandlingConfig).',
)
