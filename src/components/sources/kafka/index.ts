/**
 * `sourceType: kafka`: topics of a Kafka cluster, read in micro-batches with Spark's options.
 */
import type { SourceDefinition } from '../../../api/component.ts'
import { type KafkaExtractConfig, kafkaExtractSchema } from './config.ts'
import { KafkaSource } from './source.ts'
import { envelopeNote } from '../value-envelope.ts'

export { KafkaSource, type KafkaSourceOptions } from './source.ts'
export type { KafkaLogin } from './options.ts'

/** The Kafka source kind for the component registry. */
export const kafkaSource: SourceDefinition<KafkaExtractConfig> = {
  type: 'kafka',
  summary:
    'Kafka topics (subscribe or subscribePattern), every partition, from startingOffsets on the first run and from ' +
    "Sluice's stored offsets after that. Reads read_committed, without a consumer group; offsets are copied to the " +
    'group kafka.group.id (default sluice-<pipelineId>) after each commit, for lag monitoring only.',
  schema: kafkaExtractSchema,
  describe(e) {
    const p = e.connectionParams
    const what = p.subscribePattern !== undefined ? `pattern /${p.subscribePattern}/` : `topics ${p.subscribe ?? ''}`
    const offsets = typeof p.startingOffsets === 'string' ? p.startingOffsets : 'per-partition offsets'
    const protocol = p['kafka.security.protocol'] ?? 'PLAINTEXT'
    const sasl = protocol.startsWith('SASL_') || p['kafka.sasl.mechanism'] !== undefined ? ` ${p['kafka.sasl.mechanism'] ?? 'PLAIN'}` : ''
    return `kafka ${what} from ${p['kafka.bootstrap.servers']} (${protocol}${sasl}), startingOffsets ${offsets}${envelopeNote(e.envelope)}`
  },
  // Spark's per-source options, which win over the streaming section's.
  readLimits: (e) => ({ maxRecords: e.connectionParams.maxOffsetsPerTrigger, maxBytes: e.connectionParams.maxBytesPerTrigger }),
  metadata: 'kafka',
  envelope: (e) => e.envelope ?? 'none',
  create(config, ctx) {
    return new KafkaSource(config, ctx)
  },
}
