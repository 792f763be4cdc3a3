/**
 * Maps the Kafka extract config (Spark's option names) to @platformatic/kafka client settings.
 * `kafka.*` options are Kafka consumer properties passed through; the ones that have a meaning
 * here are mapped, the rest are named once in a warning (a typo must not pass unnoticed) and
 * otherwise ignored (as Spark passes them to a consumer that ignores unknown ones).
 */
import type { KafkaExtractConfig } from './config.ts'
import { SluiceError } from '../../../errors.ts'
import { kafkaConnection, parseJaas, type KafkaConnection, type KafkaLogin } from '../../kafka/connection.ts'
import { readerSettings, type ReaderSettings } from '../../kafka/clients.ts'
import { sourceConnectionInput } from '../../kafka/inputs.ts'
import { KAFKA_SECURITY_OPTIONS } from '../../kafka/options.ts'

export { parseJaas, type KafkaLogin }

/** Everything the source needs to open its clients and fetch. */
export interface KafkaSettings extends ReaderSettings {
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
  // Consumer-group membership (membership.ts).
  'kafka.session.timeout.ms',
  'kafka.heartbeat.interval.ms',
  'kafka.max.poll.interval.ms',
  'kafka.group.instance.id',
])

function invalid(option: string, message: string): SluiceError {
  return new SluiceError('CONFIG_INVALID', `extract.connectionParams.${option}: ${message}`, { details: { path: `extract.connectionParams.${option}` } })
}

/** The option as a positive integer; undefined when not given (the reader's default applies). */
export function positiveInt(params: Record<string, unknown>, option: string): number | undefined {
  const raw = params[option]
  if (raw === undefined) return undefined
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
  const connection = sourceConnection(config, where.baseDir, login)
  return {
    ...readerSettings(connection, {
      clientId: str('kafka.client.id') ?? `sluice-${where.pipelineId}`,
      groupId: str('kafka.group.id') ?? `sluice-${where.pipelineId}`,
      connectTimeoutMs: positiveInt(params, 'kafka.socket.connection.setup.timeout.ms'),
      requestTimeoutMs: positiveInt(params, 'kafka.request.timeout.ms'),
      fetchMaxBytes: positiveInt(params, 'kafka.fetch.max.bytes'),
      partitionMaxBytes: positiveInt(params, 'kafka.max.partition.fetch.bytes'),
      fetchMaxWaitMs: positiveInt(params, 'kafka.fetch.max.wait.ms'),
      isolationLevel: isolation === 'read_committed' ? 1 : 0,
    }),
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
  const assign = config.connectionParams.assign
  if (assign !== undefined) {
    const topics = new Set(Object.keys(assign))
    return { select: (all) => all.filter((t) => topics.has(t)).sort(), describe: `assign ${JSON.stringify(assign)}` }
  }
  const names = (subscribe ?? config.topic ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (names.length === 0) throw invalid('subscribe', 'name the topics to read with subscribe (or subscribePattern)')
  const wanted = new Set(names)
  return { select: (all) => all.filter((t) => wanted.has(t)).sort(), describe: names.join(',') }
}
