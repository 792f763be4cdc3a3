/**
 * Where a pipeline's dead letters and late records go, decided from its config in one place: `run`
 * (assemble.ts) routes by it and `validate` prints it, so the summary names what a run really does.
 */
import { suffixedTable } from '../components/sinks/postgres/sql/quote.ts'
import { templateBaseTable } from '../components/sinks/postgres/table-template.ts'
import type { PipelineConfig } from '../config/index.ts'
import type { LateStrategy } from '../engine/batch-runner.ts'
import type { Destination } from '../reliability/dlq.ts'

export interface PipelineRoutes {
  /** Where bad records go: the configured DLQ, else the table `<load.table>_dlq` (`raw_{topic}` -> `raw_topic_dlq`). */
  readonly dlq: Destination
  readonly lateStrategy: LateStrategy
  /** Where late records go (sendtodlq, separatestream); null when they are dropped. */
  readonly late: Destination | null
  /** The Kafka cluster of topic destinations: the Kafka DLQ's, else the Kafka source's. */
  readonly kafkaServers: string | undefined
}

/** The dead-letter and late-record destinations of a pipeline. */
export function pipelineRoutes(config: PipelineConfig): PipelineRoutes {
  const dlqConfig = config.errorHandlingConfig.dlqConfig
  const dlq: Destination = !dlqConfig
    ? { kind: 'table', table: suffixedTable(templateBaseTable(config.load.table), '_dlq') }
    : dlqConfig.dlqType === 'postgresql'
      ? { kind: 'table', table: dlqConfig.table }
      : { kind: 'topic', topic: dlqConfig.topic }
  const kafkaServers = (dlqConfig?.dlqType === 'kafka' ? dlqConfig.bootstrapServers : undefined) ?? (config.extract.sourceType === 'kafka' ? config.extract.connectionParams['kafka.bootstrap.servers'] : undefined)
  const lateConfig = config.streamingConfigJson?.lateDataConfig
  const lateStrategy: LateStrategy = lateConfig?.strategy ?? 'drop'
  // dlqTopic is a Kafka topic (the seed's meaning) whenever a Kafka cluster is known: the Kafka
  // DLQ's, else the Kafka source's. Only a pipeline without any Kafka takes it as a table name.
  const kafkaKnown = dlq.kind === 'topic' || config.extract.sourceType === 'kafka'
  const dlqTopic = (topic: string): Destination => (kafkaKnown ? { kind: 'topic', topic } : { kind: 'table', table: topic })
  let late: Destination | null = null
  if (lateConfig?.strategy === 'sendtodlq') {
    late = lateConfig.dlqTopic ? dlqTopic(lateConfig.dlqTopic) : dlq
  } else if (lateConfig?.strategy === 'separatestream') {
    // The seed's LateDataConfig has only dlqTopic: with separatestream it names the late stream too.
    if (lateConfig.separateTable) late = { kind: 'table', table: lateConfig.separateTable }
    else if (lateConfig.separateTopic) late = { kind: 'topic', topic: lateConfig.separateTopic }
    else if (lateConfig.dlqTopic) late = dlqTopic(lateConfig.dlqTopic)
    else late = { kind: 'topic', topic: `${config.pipelineId}-late` }
  }
  return { dlq, lateStrategy, late, kafkaServers }
}

/** "table events_dlq" or "kafka topic late-events on host:9092" (broker addresses carry no secrets). */
export function describeDestination(d: Destination, kafkaServers: string | undefined): string {
  if (d.kind === 'table') return `table ${d.table}`
  return `kafka topic ${d.topic} ${kafkaServers === undefined ? '(no Kafka cluster known)' : `on ${kafkaServers}`}`
}

/** What happens to late records, in words: "late data sendtodlq to table x", "late data dropped". */
export function describeLate(routes: PipelineRoutes): string {
  switch (routes.lateStrategy) {
    case 'drop':
      return 'late data dropped'
    case 'loganddrop':
      return 'late data logged and dropped'
    default:
      return `late data ${routes.lateStrategy} to ${routes.late ? describeDestination(routes.late, routes.kafkaServers) : 'nowhere'}`
  }
}
