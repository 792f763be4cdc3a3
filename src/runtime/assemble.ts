/**
 * Turns a validated pipeline config into a runnable Query: looks the source and sink up in the
 * registry, loads schemas, chooses the trigger, the checkpoint folder and the dead-letter routes.
 * This is the only place where config meets engine; the engine never sees raw JSON.
 */
import { isAbsolute, join, resolve } from 'node:path'
import type { ComponentContext, Logger } from '../api/component.ts'
import type { Source } from '../api/source.ts'
import { sinks, sourceFor } from '../components/registry.ts'
import type { PgBatchTx, PostgresStore } from '../components/sinks/postgres/index.ts'
import { type AggregateStep, splitSteps } from '../components/transforms/index.ts'
import { toDedupSpec } from '../components/transforms/stateful-config.ts'
import { type PipelineConfig, type StreamingConfig, resolveCredential as resolveCredentialFrom } from '../config/index.ts'
import { OUTBOX_DEFAULTS } from '../config/error-handling.ts'
import type { OutboxConfig } from '../config/index.ts'
import { BatchRunner, type BatchRunnerOptions } from '../engine/batch-runner.ts'
import { CheckpointLog } from '../engine/checkpoint.ts'
import type { EngineEvents } from '../engine/events.ts'
import { Query } from '../engine/query.ts'
import { TriggerPolicy } from '../engine/trigger.ts'
import { CircuitBreaker } from '../reliability/circuit-breaker.ts'
import { DeadLetterTables } from '../reliability/dlq.ts'
import { pipelineRoutes } from './routes.ts'
import { OutboxRelay, relayingWriter } from '../components/kafka/outbox/relay.ts'
import { dlqConnection } from '../components/kafka/inputs.ts'
import { preflightKafka } from '../components/kafka/preflight.ts'
import { aggregateStateMode, pipelineSchemas } from './schemas.ts'
import { deleteKeyPaths, deleteKeys, fieldsReferenced, rowTransform, valueEnvelope, routingOption } from './record-path-config.ts'
import { watermarkOptions } from './watermark-options.ts'

export { parseLoadSchema, schemaDirOf, withAggregateColumns } from './schemas.ts'

export interface AssembleDeps {
  readonly logger: Logger
  readonly events: EngineEvents
  readonly env: Readonly<Record<string, string | undefined>>
}

/** A query with the parts it owns, ready to run. */
export interface AssembledPipeline {
  readonly config: PipelineConfig
  readonly streaming: StreamingConfig
  readonly query: Query
  readonly source: Source
  /** The commit store (the sink database): readiness, cleanup, status. */
  readonly store: PostgresStore
  readonly breaker: CircuitBreaker
  readonly deadLetters: DeadLetterTables
  /** The Kafka outbox relay, when a destination is a Kafka topic. */
  readonly outbox: OutboxRelay | null
  close(): Promise<void>
}

/** The streaming settings in force: the file's, or defaults for a batch pipeline without any. */
export function effectiveStreaming(config: PipelineConfig, baseDir: string): StreamingConfig {
  const given = config.streamingConfigJson
  const streaming: StreamingConfig = given ?? {
    checkpointLocation: join('.sluice', 'checkpoints', config.pipelineId),
    queryName: config.pipelineId,
    // An aggregate keeps the current result in the table (validation refuses append with one).
    outputMode: config.transform.some((s) => s.type === 'aggregate') ? 'update' : 'append',
    triggerMode: { type: 'availablenow' },
    enableIdempotence: true,
  }
  const checkpointLocation = isAbsolute(streaming.checkpointLocation) ? streaming.checkpointLocation : resolve(baseDir, streaming.checkpointLocation)
  // mode: batch runs like availablenow: everything there at start, then exit.
  const triggerMode = config.mode === 'batch' ? { type: 'availablenow' as const } : streaming.triggerMode
  return { ...streaming, checkpointLocation, triggerMode }
}

/** outboxConfig with its defaults filled in. */
export function outboxSettings(config: PipelineConfig): OutboxConfig {
  return { ...OUTBOX_DEFAULTS, ...config.errorHandlingConfig.outboxConfig }
}

/** The aggregate step as the batch runner takes it: merged into the table, or with its windows in the state table. */
function aggregateOption(config: PipelineConfig, streaming: StreamingConfig, aggregate: AggregateStep | null): Pick<BatchRunnerOptions<PgBatchTx>, 'aggregate' | 'windowAppend'> {
  const mode = aggregateStateMode(config)
  if (aggregate === null || mode === null) return {}
  if (mode === 'merge') return { aggregate }
  return { windowAppend: { spec: withSessionTimeout(aggregate, streaming), step: `transform[${config.transform.length - 1}]`, mode } }
}

/** A session window's stateTimeout: the step's, else streamingConfigJson's (windows close by the watermark alone). */
function withSessionTimeout(step: AggregateStep, streaming: StreamingConfig): AggregateStep {
  const timeout = step.stateTimeout ?? streaming.stateTimeout
  return step.session === undefined || timeout === undefined ? step : { ...step, stateTimeout: timeout }
}

/** Builds the query of one pipeline. */
export async function assemble(config: PipelineConfig, baseDir: string, deps: AssembleDeps): Promise<AssembledPipeline> {
  const { aggregate, deduplicate } = splitSteps(config.transform)
  const streaming = effectiveStreaming(config, baseDir)
  const logger = deps.logger.child({ pipelineId: config.pipelineId })
  // A long-running query (continuous, processingtime) is what several workers share (README "Scaling out").
  const longRunning = streaming.triggerMode.type === 'continuous' || streaming.triggerMode.type === 'processingtime'
  const ctx: ComponentContext = { pipelineId: config.pipelineId, baseDir, logger, env: deps.env, longRunning }
  const { validator, loadSchema } = await pipelineSchemas(config, baseDir)

  const sourceDef = sourceFor(config.extract)
  const source = sourceDef.create(config.extract, ctx)
  const resolveCredential = (id: string): Promise<{ user?: string; password?: string }> => resolveCredentialFrom(id, deps.env)
  const { store, table, state, windows } = sinks.postgresql.create(config.load, ctx, { resolveCredential, envelope: valueEnvelope(config), ...(loadSchema ? { loadSchema } : {}) })

  const errors = config.errorHandlingConfig
  const dlqConfig = errors.dlqConfig
  const { dlq, late, lateStrategy } = pipelineRoutes(config)
  const deadLetters = new DeadLetterTables({ pipelineId: config.pipelineId, dlq, late })
  // Kafka-bound dead letters are committed to the outbox table; the relay publishes them after each commit.
  const dlqKafka = deadLetters.usesOutbox ? await dlqConnection(config, baseDir, deps.env) : null
  // The source's own open finds a refused login on its cluster; a DLQ with settings of its own is asked now.
  if (dlqKafka && !dlqKafka.sourceSettings) await preflightKafka(dlqKafka.connection, 'dlq', `sluice-dlq-${config.pipelineId}-preflight`, logger)
  const relay = dlqKafka
    ? new OutboxRelay({
        pipelineId: config.pipelineId,
        kafka: dlqKafka.connection,
        database: () => store.database(),
        topicCreation: dlqConfig?.dlqType === 'kafka' ? { ...(dlqConfig.partitions === undefined ? {} : { partitions: dlqConfig.partitions }), ...(dlqConfig.replicationFactor === undefined ? {} : { replicationFactor: dlqConfig.replicationFactor }) } : {},
        events: deps.events,
        logger,
      })
    : null
  relay?.start()

  const breakerConfig = errors.circuitBreakerConfig
  const breaker = new CircuitBreaker(breakerConfig)
  breaker.onStateChange((state) => {
    deps.events.emit('circuit.state', { pipelineId: config.pipelineId, state })
    logger.warn({ circuit: state }, `circuit breaker ${state}`)
  })
  const exactlyOnce = streaming.enableIdempotence
  const letters = sinks.postgresql.deadLetters(deadLetters, config.load)
  const runner = new BatchRunner<PgBatchTx>({
    pipelineId: config.pipelineId,
    source,
    commit: { store, table, state, windows, deadLetters: relay ? relayingWriter(letters, relay) : letters },
    exactlyOnce,
    checkpointLocation: streaming.checkpointLocation,
    retry: errors.retryConfig,
    breaker,
    breakerEnabled: breakerConfig.enabled,
    recordPath: {
      validator,
      transform: rowTransform(config),
      watermark: streaming.watermark ? watermarkOptions(streaming.watermark, aggregate ?? undefined, streaming.outputMode) : null,
      deleteKeys: deleteKeys(config),
      ...deleteKeyPaths(config),
      envelope: valueEnvelope(config),
      ...routingOption(config),
    },
    // Record metadata (key, topic, ...) is added where a step, the watermark or a key reads it, or the table has it.
    metadata: {
      source: sourceDef.metadata,
      referenced: fieldsReferenced(config),
    },
    // In append mode the aggregate's windows wait in the window state until the watermark closes them.
    ...aggregateOption(config, streaming, aggregate),
    ...(deduplicate ? { deduplicate: { spec: toDedupSpec(deduplicate.step, streaming), step: `transform[${deduplicate.at}]`, ...(deduplicate.step.onDuplicate === 'dlq' ? { toDlq: true } : {}) } } : {}),
    lateStrategy,
    failFast: errors.failFast,
    events: deps.events,
    logger,
  })
  const own = sourceDef.readLimits(config.extract)
  const maxRecords = own.maxRecords ?? streaming.maxRecordsPerTrigger
  const maxBytes = own.maxBytes ?? streaming.maxBytesPerTrigger
  const query = new Query<PgBatchTx>({
    pipelineId: config.pipelineId,
    source,
    store,
    table,
    checkpoint: new CheckpointLog(streaming.checkpointLocation),
    trigger: new TriggerPolicy(streaming.triggerMode),
    limits: {
      ...(maxRecords ? { maxRecords } : {}),
      ...(streaming.maxFilesPerTrigger ? { maxFiles: streaming.maxFilesPerTrigger } : {}),
      ...(maxBytes ? { maxBytes } : {}),
    },
    exactlyOnce,
    runner,
    events: deps.events,
    logger,
  })
  return {
    config,
    streaming,
    query,
    source,
    store,
    breaker,
    deadLetters,
    outbox: relay,
    async close() {
      await relay?.close() // the last relay attempt needs the store's connection
      await Promise.allSettled([source.close(), store.close()])
    },
  }
}

