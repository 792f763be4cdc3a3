/**
 * Maps the Kafka extract config (Spark's option names) to @platformatic/kafka client settings.
 * `kafka.*` options are Kafka consumer properties passed through; the ones that have a meaning
 * here are mapped, the rest are named once in a warning (a typo must not pass unnoticed) and
 * otherwise ignored (as Spark passes them to a consumer that ignores unknown ones).
 */
import type { KafkaExtractConfig } from './config.ts'
import { SluiceError } from '../../../errors.ts'
import { kafkaConnection, parseJaas, type KafkaConnection, type KafkaLogin } from '../../kafka/connection.ts'
import { sourceConnectionInput } from '../../kafka/inputs.ts'
import { KAFKA_SECURITY_OPTIONS } from '../../kafka/options.ts'

export { parseJaas, type KafkaLogin }

/** Everything the source needs to open its clients and fetch. */
export interface KafkaSettings {
  /** Brokers, SASL and TLS (components/kafka/connection.ts). */
  readonly connection: KafkaConnection
  readonly clientId: string
  readonly groupId: string
  readonly connectTimeoutMs: number
  readonly requestTimeoutMs: number
  /** Fetch response cap (fetch.max.bytes). */
  readonly fetchMaxBytes: number
  /** Per-partition cap (max.partition.fetch.bytes). */
  readonly partitionMaxBytes: number
  /** How long the broker may wait for data (fetch.max.wait.ms); short: reads only ask for existing data. */
  readonly fetchMaxWaitMs: number
  /** 1 = read_committed (default, as Spark), 0 = read_uncommitted. */
  readonly isolationLevel: 0 | 1
  /** `kafka.*` options given but not used, for one warning log line (names only, never values). */
  readonly ignored: string[]
}

/** Options read here; everything else under `kafka.` is ignored with a warning. */
const HANDLED = new Set<string>([
  'kafka.bootstrap.servers',
  'kafka.client.id',
  'kafka.group.id',
  ...KAFKA_SECURITY_OPTIONS,
  'kafka.request.timeout.ms',
  'kafka.socket.connection.setup.timeout.ms',
  'kafka.fetch.max.bytes',
  'kafka.max.partition.fetch.bytes',
  'kafka.fetch.max.wait.ms',
  'kafka.isolation.level',
])

function invalid(option: string, message: string): SluiceError {
  return new SluiceError('CONFIG_INVALID', `extract.connectionParams.${option}: ${message}`, { details: { path: `extract.connectionParams.${option}` } })
}

function positiveInt(params: Record<string, unknown>, option: string, fallback: number): number {
  const raw = params[option]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw invalid(option, `expected a positive integer, got ${JSON.stringify(raw)}`)
  return n
}

/** The source's connection (brokers, SASL, TLS); `loginLater` when credentialId will supply the login. */
export function sourceConnection(config: KafkaExtractConfig, baseDir: string, login?: KafkaLogin, loginLater = false): KafkaConnection {
  return kafkaConnection({ ...sourceConnectionInput(config, baseDir), ...(login === undefined ? {} : { login }), loginLater })
}

/**
 * Builds client settings. `login` is the credential resolved from credentialId, when there is
 * one; otherwise `kafka.sasl.username`/`kafka.sasl.password` or the JAAS line provide it.
 */
export function kafkaSettings(config: KafkaExtractConfig, where: { pipelineId: string; baseDir: string }, login?: KafkaLogin): KafkaSettings {
  const params = config.connectionParams as Record<string, unknown>
  const str = (k: string): string | undefined => (typeof params[k] === 'string' ? (params[k] as string) : undefined)
  const isolation = (str('kafka.isolation.level') ?? 'read_committed').toLowerCase()
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') {
    throw invalid('kafka.isolation.level', `expected read_committed or read_uncommitted, got ${JSON.stringify(isolation)}`)
  }
  return {
    connection: sourceConnection(config, where.baseDir, login),
    clientId: str('kafka.client.id') ?? `sluice-${where.pipelineId}`,
    groupId: str('kafka.group.id') ?? `sluice-${where.pipelineId}`,
    connectTimeoutMs: positiveInt(params, 'kafka.socket.connection.setup.timeout.ms', 10_000),
    requestTimeoutMs: positiveInt(params, 'kafka.request.timeout.ms', 30_000),
    // 1 MiB responses, not Kafka's 50 MiB: pipelining hides the extra round trips, and a larger
    // value no longer costs more CPU (contiguous-reads.ts joins the client's chunk list before it
    // parses; reader.ts asks a partition for no more than its range needs; docs/benchmarks.md).
    fetchMaxBytes: positiveInt(params, 'kafka.fetch.max.bytes', 1024 * 1024),
    partitionMaxBytes: positiveInt(params, 'kafka.max.partition.fetch.bytes', 1024 * 1024),
    fetchMaxWaitMs: positiveInt(params, 'kafka.fetch.max.wait.ms', 100),
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    ignored: Object.keys(params).filter((k) => k.startsWith('kafka.') && !HANDLED.has(k)),
  }
}

/** Which topics the source reads: `subscribe` (comma-separated), `subscribePattern` (a regex matching whole names), or `topic`. */
export interface TopicSelection {
  /** Picks the subscribed topics out of the broker's topic list (internal topics never match). */
  select(allTopics: readonly string[]): string[]
  /** Human-readable form for logs. */
  readonly describe: string
}

/** The topic selection of the config; exactly one of subscribe, subscribePattern or topic must be given. */
export function topicSelection(config: KafkaExtractConfig): TopicSelection {
  const { subscribe, subscribePattern } = config.connectionParams
  const given = [subscribe, subscribePattern].filter((v) => v !== undefined).length
  if (given > 1) throw invalid('subscribe', 'give only one of subscribe and subscribePattern')
  if (subscribePattern !== undefined) {
    let re: RegExp
    try {
      re = new RegExp(`^(?:${subscribePattern})$`)
    } catch (err) {
      throw invalid('subscribePattern', `not a valid regular expression: ${(err as Error).message}`)
    }
    return {
      select: (all) => all.filter((t) => !t.startsWith('__') && re.test(t)).sort(),
      describe: `pattern ${subscribePattern}`,
    }
  }
  const names = (subscribe ?? config.topic ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (names.length === 0) throw invalid('subscribe', 'name the topics to read with subscribe (or subscribePattern)')
  const wanted = new Set(names)
  return { select: (all) => all.filter((t) => wanted.has(t)).sort(), describe: names.join(',') }
}
