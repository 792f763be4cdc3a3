/**
 * The parsed (output) shapes of a pipeline file. Every value here is already normalized:
 * durations are milliseconds, lenient spellings are canonical, string numbers are numbers.
 * The zod schemas in this folder and in the components' config.ts files produce exactly these
 * types (types.check.ts asserts it at compile time).
 */
import type { ExtractConfig } from '../components/registry.ts'

/** Milliseconds. Input: "5 seconds", "1 hour", "500 ms", "2m", "1.5 s", or a number of milliseconds. */
export type Duration = number

export type TriggerMode =
  | { type: 'processingtime'; intervalMs: number }
  | { type: 'once' }
  | { type: 'availablenow' }
  | { type: 'continuous' }

export type OutputMode = 'append' | 'update' | 'complete'

export type LateDataStrategy = 'drop' | 'loganddrop' | 'sendtodlq' | 'separatestream'

export type LateDataConfig = {
  strategy: LateDataStrategy
  dlqTopic?: string
  separateTable?: string
  separateTopic?: string
}

export type WatermarkConfig = { eventTimeColumn: string; delayThreshold: Duration; perPartition?: boolean; idleTimeout?: Duration }

export type StreamingConfig = {
  checkpointLocation: string
  queryName: string
  outputMode: OutputMode
  triggerMode: TriggerMode
  watermark?: WatermarkConfig
  lateDataConfig?: LateDataConfig
  enableIdempotence: boolean
  maxRecordsPerTrigger?: number
  maxFilesPerTrigger?: number
  /** Bytes per micro-batch (maxBytesPerTrigger); the engine's default applies when absent. */
  maxBytesPerTrigger?: number
  stateTimeout?: Duration
}

export type RetryStrategy = 'exponential' | 'linear' | 'fixed' | 'none'

export type RetryConfig = {
  strategy: RetryStrategy
  maxAttempts: number
  initialDelaySeconds: number
  maxDelaySeconds: number
}

export type CircuitBreakerConfig = { enabled: boolean; failureThreshold: number; resetTimeoutSeconds: number }

export type DlqConfig =
  | KafkaDlqConfig
  | { dlqType: 'postgresql'; table: string }

export type OutboxConfig = { drainTimeoutSeconds: number; stuckAfterSeconds: number }
/** The Kafka DLQ: its cluster, topic, and (when not the source's cluster) its own `kafka.*` security options. */
export type KafkaDlqConfig = {
  dlqType: 'kafka'
  bootstrapServers: string
  topic: string
  /** Partitions / replication factor of the DLQ and late topics when Sluice creates them. */
  partitions?: number
  replicationFactor?: number
  credentialId?: string
  [k: `kafka.${string}`]: string
}

export type ErrorHandlingConfig = {
  retryConfig: RetryConfig
  circuitBreakerConfig: CircuitBreakerConfig
  dlqConfig?: DlqConfig
  outboxConfig?: OutboxConfig
  failFast: boolean
}

/**
 * The `extract` section: the union of the config types of the sources in components/registry.ts
 * (each source declares its own type beside its zod schema, in its folder's config.ts).
 */
export type { ExtractConfig }

export type WriteMode = 'append' | 'overwrite' | 'upsert'

export type PostgresConnectionParams = {
  url?: string
  host?: string
  port?: number
  database?: string
  user?: string
  password?: string
  batchsize?: number
  currentSchema?: string
  sslmode?: string
  sslrootcert?: string
  sslcert?: string
  sslkey?: string
  poolSize?: number
}

export type PostgresLoadConfig = {
  sinkType: 'postgresql'
  table: string
  schemaName?: string
  writeMode: WriteMode
  upsertKeys?: string[]
  /** Table column -> record field or field path (api/field-path.ts) it is filled from. */
  columnMapping?: Record<string, string>
  autoCreateTable: boolean
  /** Add nullable columns for new fields inside the batch transaction (components/sinks/postgres/evolve.ts). */
  autoEvolve: boolean
  deleteOnTombstone: boolean
  embedded: boolean
  credentialId?: string
  connectionParams: PostgresConnectionParams
}

export type CastType = 'string' | 'int' | 'float' | 'boolean' | 'timestamp' | 'json'
export type FilterOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'isnull' | 'notnull'
export type AggregateFn = 'count' | 'sum' | 'min' | 'max' | 'avg'

export type TransformStep =
  | { type: 'select'; columns: string[] }
  | { type: 'rename'; mapping: Record<string, string> }
  | { type: 'filter'; field: string; op: FilterOp; value?: unknown }
  | { type: 'cast'; columns: Record<string, CastType> }
  | {
      type: 'aggregate'
      groupBy: string[]
      aggregations: Record<string, { fn: AggregateFn; field?: string }>
      window?: { column: string; duration: Duration; slide?: Duration; startTime?: number }
      session?: { column: string; gap: Duration }
      stateTimeout?: Duration
    }
  | { type: 'deduplicate'; keys: string[]; withinWatermark?: boolean; stateTimeout?: Duration; onDuplicate?: 'filter' | 'dlq' }

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

export type MonitoringConfig = {
  httpPort?: number
  httpHost: string
  httpAllowedHosts?: string[]
  logLevel?: LogLevel
  cleanupIntervalHours?: number
  shutdownTimeoutSeconds: number
}

export type PipelineMode = 'batch' | 'streaming'

export type PipelineConfig = {
  pipelineId: string
  name?: string
  mode: PipelineMode
  extract: ExtractConfig
  transform: TransformStep[]
  load: PostgresLoadConfig
  streamingConfigJson?: StreamingConfig
  errorHandlingConfig: ErrorHandlingConfig
  schemaDir?: string
  monitoring: MonitoringConfig
}

/** One validation problem; `value` is redacted when the field is a secret and absent for an unknown key (never echoed). */
export type ConfigIssue = { path: string; value: unknown; message: string; suggestion?: string }

export type ParseResult = { ok: true; config: PipelineConfig } | { ok: false; issues: ConfigIssue[] }
