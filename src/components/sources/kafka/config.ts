/**
 * Config of the Kafka source, with Spark's Kafka option names (`kafka.bootstrap.servers`, `subscribe`,
 * `subscribePattern`, `startingOffsets`, `maxOffsetsPerTrigger`, `failOnDataLoss`) and `kafka.*`
 * options passed through to the client. Numbers and booleans may be written as strings, as Spark
 * options are.
 */
import * as z from 'zod'
import { always, byteSize, interpolationSchema, lenientBool, lenientInt, lenientPattern, normalizeWord, strictObject, text } from '../../../config/lenient.ts'
import { didYouMean, levenshtein } from '../../../config/suggest.ts'
import { KAFKA_SECURITY_OPTIONS, bootstrapServersSchema, kafkaSecurityShape } from '../../kafka/options.ts'
import { type ValueEnvelope, kafkaEnvelopeSchema } from '../value-envelope.ts'

/** Per-topic, per-partition starting offsets; -2 means earliest and -1 latest (Spark's convention). */
export type PartitionOffsets = Record<string, Record<string, number>>

export type KafkaConnectionParams = {
  'kafka.bootstrap.servers': string
  subscribe?: string
  subscribePattern?: string
  startingOffsets: 'earliest' | 'latest' | PartitionOffsets
  maxOffsetsPerTrigger?: number
  maxBytesPerTrigger?: number
  failOnDataLoss: boolean
  /** Spark's assign: the partitions this worker reads, by topic; no consumer group. */
  assign?: Readonly<Record<string, readonly number[]>>
  /** Join the consumer group and read only its assignment (default: with a long-running trigger). */
  groupMembership?: boolean
  [k: `kafka.${string}`]: string
}

export type KafkaExtractConfig = {
  sourceType: 'kafka'
  topic?: string
  schemaName?: string
  /** The record values are in Kafka Connect's JsonConverter envelope (`connect`), Debezium change events (`debezium`) or plain (absent, `none`). */
  envelope?: ValueEnvelope
  credentialId?: string
  connectionParams: KafkaConnectionParams
}

const offsetsHelp = '"earliest", "latest", or per-partition JSON such as {"topic":{"0":23,"1":-2}} (-2 = earliest, -1 = latest)'

/** Validates a parsed per-partition offsets object; returns the typed value or an error message. */
function checkPartitionOffsets(value: unknown): { ok: true; offsets: PartitionOffsets } | { ok: false; message: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, message: `must be ${offsetsHelp}` }
  const out: PartitionOffsets = {}
  const topics = Object.entries(value)
  if (topics.length === 0) return { ok: false, message: `must name at least one topic: ${offsetsHelp}` }
  for (const [topic, partitions] of topics) {
    if (typeof partitions !== 'object' || partitions === null || Array.isArray(partitions)) {
      return { ok: false, message: `topic "${topic}" must map partition numbers to offsets: ${offsetsHelp}` }
    }
    const perPartition: Record<string, number> = {}
    for (const [partition, offset] of Object.entries(partitions)) {
      if (!/^\d+$/.test(partition)) return { ok: false, message: `topic "${topic}": partition "${partition}" must be a non-negative integer` }
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < -2) {
        return { ok: false, message: `topic "${topic}" partition ${partition}: offset must be an integer >= -2 (-2 = earliest, -1 = latest)` }
      }
      perPartition[partition] = offset
    }
    out[topic] = perPartition
  }
  return { ok: true, offsets: out }
}

/** startingOffsets: "earliest" | "latest" | per-partition offsets as an object or Spark's JSON string. */
export const startingOffsetsSchema = z
  .union([z.string(), z.record(z.string(), z.record(z.string(), z.number()))], { error: `must be ${offsetsHelp}` })
  .meta({
    description: `Where a pipeline with no stored position starts: ${offsetsHelp}. Default latest.`,
    anyOf: [
      { enum: ['earliest', 'latest'] },
      { type: 'string', pattern: lenientPattern(['earliest', 'latest']) },
      { type: 'string', pattern: '^\\s*[{]' },
      interpolationSchema,
      { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'integer', minimum: -2 } } },
    ],
  })
  .transform((v, ctx): 'earliest' | 'latest' | PartitionOffsets => {
    let candidate: unknown = v
    if (typeof v === 'string') {
      const w = normalizeWord(v)
      if (w === 'earliest' || w === 'latest') return w
      try {
        candidate = JSON.parse(v)
      } catch {
        ctx.issues.push({ code: 'custom', input: v, message: `must be ${offsetsHelp}` })
        return z.NEVER
      }
    }
    const r = checkPartitionOffsets(candidate)
    if (r.ok) return r.offsets
    ctx.issues.push({ code: 'custom', input: v, message: r.message })
    return z.NEVER
  })

/** Spark's `assign`: JSON of topic -> partition numbers, e.g. {"orders":[0,1]}. */
const assignSchema = z
  .union([z.string(), z.record(z.string(), z.array(z.number()))], { error: 'must be JSON of topic -> partition numbers, e.g. {"orders":[0,1]}' })
  .describe('Spark\'s assign: the partitions this worker reads, as JSON of topic -> partition numbers, e.g. {"orders":[0,1]}; no consumer group.')
  .transform((v, ctx): Record<string, number[]> => {
    let parsed: unknown = v
    if (typeof v === 'string') {
      try {
        parsed = JSON.parse(v)
      } catch {
        parsed = null
      }
    }
    const ok =
      parsed !== null &&
      typeof parsed === 'object' &&
      !Array.isArray(parsed) &&
      Object.keys(parsed).length > 0 &&
      Object.values(parsed).every((list) => Array.isArray(list) && list.length > 0 && list.every((n) => Number.isInteger(n) && n >= 0))
    if (!ok) {
      ctx.issues.push({ code: 'custom', input: v, message: 'must be JSON of topic -> non-empty lists of partition numbers, e.g. {"orders":[0,1]}' })
      return z.NEVER
    }
    return parsed as Record<string, number[]>
  })

const knownParams = ['kafka.bootstrap.servers', 'subscribe', 'subscribePattern', 'assign', 'groupMembership', 'startingOffsets', 'maxOffsetsPerTrigger', 'maxBytesPerTrigger', 'failOnDataLoss', ...KAFKA_SECURITY_OPTIONS]

/** The known `kafka.sasl.*` option that `key` (an unknown one) is one or two typos away from. */
function misspeltLoginOption(key: string): string | undefined {
  if (!key.toLowerCase().startsWith('kafka.sasl.')) return undefined
  return knownParams.find((known) => known.startsWith('kafka.sasl.') && levenshtein(key.toLowerCase(), known.toLowerCase()) <= 2)
}

export const kafkaConnectionParamsSchema = z
  .object({
    'kafka.bootstrap.servers': bootstrapServersSchema('Comma-separated host:port list of brokers.'),
    subscribe: text('Comma-separated topic list (defaults to topic).').optional(),
    subscribePattern: z
      .string({ error: 'must be a regular expression string' })
      .describe('Regular expression of topics to read.')
      .refine(
        (s) => {
          try {
            new RegExp(s)
            return s.length > 0
          } catch {
            return false
          }
        },
        { error: 'must be a valid, non-empty regular expression' },
      )
      .optional(),
    startingOffsets: startingOffsetsSchema.default('latest'),
    maxOffsetsPerTrigger: lenientInt({ min: 1 }, 'Upper bound of offsets read in one micro-batch, over all partitions.').optional(),
    maxBytesPerTrigger: byteSize(
      'Upper bound of the bytes (keys, values and headers) of one micro-batch, over all partitions, e.g. "64 MiB"; planned from the record sizes read so far, so a batch may pass it when records grow. Default 16 MiB (the engine default; see README "Exactly once").',
    ).optional(),
    failOnDataLoss: lenientBool('Fail when planned offsets are gone (retention) instead of skipping them (default true).').default(true),
    assign: assignSchema.optional(),
    groupMembership: lenientBool(
      'Join the consumer group kafka.group.id (default sluice-<pipelineId>) and read only the partitions the group assigns, so the same pipeline started N times shares its partitions (README "Scaling out"). Default: on with a continuous or processingtime trigger, off with availablenow and once; never with assign.',
    ).optional(),
    ...kafkaSecurityShape,
  })
  .catchall(z.unknown())
  .meta({
    description: 'Spark Kafka options; any other "kafka.*" option is passed to the Kafka client.',
    patternProperties: { '^kafka\\.': { type: ['string', 'number', 'boolean'] } },
    additionalProperties: false,
  })
  .check(
    z.superRefine((v, ctx) => {
      for (const [key, value] of Object.entries(v)) {
        if (knownParams.includes(key)) continue
        if (key.startsWith('kafka.')) {
          if (!['string', 'number', 'boolean'].includes(typeof value)) {
            ctx.addIssue({ code: 'custom', path: [key], input: value, message: 'kafka.* options must be strings (numbers and booleans are converted)' })
          }
          // A near miss of a login option (kafka.sasl.pasword) would be passed on and ignored, and the
          // connection would go out without the login meant: refused, named without its value.
          const meant = misspeltLoginOption(key)
          if (meant !== undefined) {
            ctx.addIssue({ code: 'custom', path: [key], input: value, message: 'unknown option (a misspelt Kafka login option is never passed on)', params: { suggestion: `did you mean "${meant}"?`, unknownKey: true } })
          }
          continue
        }
        // Dotted names are Kafka client options missing their "kafka." prefix (Spark's convention).
        const suggestion = key.includes('.') ? `did you mean "kafka.${key}"?` : didYouMean(key, knownParams)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          input: value,
          message: `unknown option; allowed: ${knownParams.join(', ')}, or any "kafka.*" client option`,
          params: suggestion === undefined ? { unknownKey: true } : { suggestion, unknownKey: true },
        })
      }
    }, always),
  )
  .transform((v): KafkaConnectionParams => {
    const out: KafkaConnectionParams = {
      'kafka.bootstrap.servers': v['kafka.bootstrap.servers'],
      startingOffsets: v.startingOffsets,
      failOnDataLoss: v.failOnDataLoss,
    }
    if (v.subscribe !== undefined) out.subscribe = v.subscribe
    if (v.subscribePattern !== undefined) out.subscribePattern = v.subscribePattern
    if (v.maxOffsetsPerTrigger !== undefined) out.maxOffsetsPerTrigger = v.maxOffsetsPerTrigger
    if (v.maxBytesPerTrigger !== undefined) out.maxBytesPerTrigger = v.maxBytesPerTrigger
    if (v.assign !== undefined) out.assign = v.assign
    if (v.groupMembership !== undefined) out.groupMembership = v.groupMembership
    for (const [key, value] of Object.entries(v)) {
      if (key.startsWith('kafka.') && key !== 'kafka.bootstrap.servers') out[`kafka.${key.slice(6)}`] = String(value)
    }
    return out
  })

export const kafkaExtractSchema = strictObject(
  {
    sourceType: z.literal('kafka'),
    topic: text('Topic to read; the default of connectionParams.subscribe.').optional(),
    schemaName: text('Name of the record schema in schemaDir.').optional(),
    envelope: kafkaEnvelopeSchema.optional(),
    credentialId: text('Credential for SASL (see docs/config.md#credentials).').optional(),
    connectionParams: kafkaConnectionParamsSchema,
  },
  'Kafka source (Spark Kafka source options).',
)
  .check(
    z.superRefine((v, ctx) => {
      const cp: Partial<KafkaConnectionParams> = typeof v.connectionParams === 'object' && v.connectionParams !== null ? v.connectionParams : {}
      const topic = typeof v.topic === 'string' ? v.topic : undefined
      const subscribe = typeof cp.subscribe === 'string' ? cp.subscribe : undefined
      const pattern = typeof cp.subscribePattern === 'string' ? cp.subscribePattern : undefined
      if (cp.assign !== undefined && (subscribe !== undefined || pattern !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['connectionParams', 'assign'], input: cp.assign, message: 'use one of assign, subscribe and subscribePattern (as Spark does)' })
      }
      if (cp.assign !== undefined && cp.groupMembership === true) {
        ctx.addIssue({ code: 'custom', path: ['connectionParams', 'groupMembership'], input: true, message: 'assign names fixed partitions: it reads without a consumer group' })
      }
      if (subscribe !== undefined && pattern !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['connectionParams', 'subscribePattern'], input: pattern, message: 'use either subscribe or subscribePattern, not both' })
      }
      if (topic !== undefined && pattern !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['topic'], input: topic, message: 'use either topic or connectionParams.subscribePattern, not both' })
      }
      if (topic !== undefined && subscribe !== undefined && !subscribe.split(',').map((t) => t.trim()).includes(topic.trim())) {
        ctx.addIssue({ code: 'custom', path: ['topic'], input: topic, message: `must be one of the topics in connectionParams.subscribe ("${subscribe}")` })
      }
      if (v.topic === undefined && cp.subscribe === undefined && cp.subscribePattern === undefined && cp.assign === undefined) {
        ctx.addIssue({ code: 'custom', path: ['connectionParams', 'subscribe'], input: undefined, message: 'a Kafka source needs topic, connectionParams.subscribe or connectionParams.subscribePattern' })
      }
    }, always),
  )
  .transform((v): KafkaExtractConfig => {
    // subscribe defaults to topic, so the source reads one option only.
    if (v.topic === undefined || v.connectionParams.subscribe !== undefined || v.connectionParams.subscribePattern !== undefined) return v
    return { ...v, connectionParams: { ...v.connectionParams, subscribe: v.topic } }
  })
