/**
 * `sourceType: kafka`: topics of a Kafka cluster, read in micro-batches with Spark's options.
 */
import type { SourceDefinition } from '../../../api/component.ts'
import type { KafkaExtractConfig } from './config.ts'
import { KafkaSource } from './source.ts'

export { KafkaSource, type KafkaSourceOptions } from './source.ts'
export type { KafkaLogin } from './options.ts'

/** The Kafka source kind for the component registry. */
export const kafkaSource: SourceDefinition<KafkaExtractConfig> = {
  type: 'kafka',
  summary:
    'Kafka topics (subscribe or subscribePattern), every partition, from startingOffsets on the first run and from ' +
    "Sluice's stored offsets after that. Reads read_committed, without a consumer group; offsets are copied to the " +
    'group kafka.group.id (default sluice-<pipelineId>) after each commit, for lag monitoring only.',
  create(config, ctx) {
    return new KafkaSource(config, ctx)
  },
}
