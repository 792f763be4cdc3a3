/**
 * Maps the Kafka extract config (Spark's option names) to @platformatic/kafka client settings.
 * `kafka.*` options are Kafka consumer properties passed through; the ones that have a meaning
 * here are mapped, the rest are named once in a warning (a typo must not pass unnoticed) and
 * otherwise ignored (as Spark passes them to a consumer that ignores unknown ones).
 */
import type { SASLOptions } from '@platformatic/kafka'
import type { KafkaExtractConfig } from './config.ts'
import { SluiceError } from '../../../errors.ts'

/** SASL login: username and password (resolved from credentialId by the caller, or given inline). */
export interface KafkaLogin {
  readonly username: string
  readonly password: string
}

/** Everything the source needs to open its clients and fetch. */
export interface KafkaSettings {
  readonly bootstrapBrokers: string[]
  readonly clientId: string
  readonly groupId: string
  readonly sasl: SASLOptions | undefined
  /** True for SSL / SASL_SSL: connect with TLS (system CAs). */
  readonly tls: boolean
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

const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const
type SaslMechanism = (typeof SASL_MECHANISMS)[number]

/** Options read here; everything else under `kafka.` is ignored with a warning. */
const HANDLED = new Set([
  'kafka.bootstrap.servers',
  'kafka.client.id',
  'kafka.group.id',
  'kafka.security.protocol',
  'kafka.sasl.mechanism',
  'kafka.sasl.username',
  'kafka.sasl.password',
  'kafka.sasl.jaas.config',
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

/** Reads username/password out of a JAAS line (PlainLoginModule / ScramLoginModule) as Spark users write it. */
export function parseJaas(jaas: string): Partial<KafkaLogin> {
  const field = (name: string): string | undefined => new RegExp(`\\b${name}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(jaas)?.[1]?.replace(/\\(.)/g, '$1')
  const username = field('username')
  const password = field('password')
  return { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) }
}

/** The bootstrap list: `host:port[,host:port]`. */
export function parseBootstrap(servers: string): string[] {
  const list = servers.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (list.length === 0) throw invalid('kafka.bootstrap.servers', 'expected "host:port[,host:port...]"')
  for (const s of list) {
    if (!/^[^\s:]+:\d+$/.test(s) && !/^\[[0-9a-fA-F:]+\]:\d+$/.test(s)) throw invalid('kafka.bootstrap.servers', `not host:port: ${JSON.stringify(s)}`)
  }
  return list
}

/**
 * Builds client settings. `login` is the credential resolved from credentialId, when there is
 * one; otherwise `kafka.sasl.username`/`kafka.sasl.password` or the JAAS line provide it.
 */
export function kafkaSettings(config: KafkaExtractConfig, pipelineId: string, login?: KafkaLogin): KafkaSettings {
  const params = config.connectionParams as Record<string, unknown>
  const str = (k: string): string | undefined => (typeof params[k] === 'string' ? (params[k] as string) : undefined)
  const protocol = (str('kafka.security.protocol') ?? 'PLAINTEXT').toUpperCase()
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol)) {
    throw invalid('kafka.security.protocol', `expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got ${JSON.stringify(protocol)}`)
  }
  let sasl: SASLOptions | undefined
  const mechanismRaw = str('kafka.sasl.mechanism')
  if (protocol.startsWith('SASL_') || mechanismRaw !== undefined || login !== undefined) {
    const mechanism = (mechanismRaw ?? 'PLAIN').toUpperCase()
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw invalid('kafka.sasl.mechanism', `expected one of ${SASL_MECHANISMS.join(', ')}, got ${JSON.stringify(mechanism)}`)
    }
    const jaas = str('kafka.sasl.jaas.config')
    const inline = { ...(jaas ? parseJaas(jaas) : {}), ...pick(str('kafka.sasl.username'), str('kafka.sasl.password')) }
    const username = login?.username || inline.username
    const password = login?.password ?? inline.password
    if (mechanism === 'OAUTHBEARER') {
      if (password === undefined) throw invalid('kafka.sasl.mechanism', 'OAUTHBEARER needs a token: the password of credentialId')
      sasl = { mechanism: mechanism as SaslMechanism, token: password }
    } else {
      if (!username || password === undefined) {
        throw invalid('kafka.sasl.mechanism', `${mechanism} needs a username and password: set credentialId (or kafka.sasl.username and kafka.sasl.password)`)
      }
      sasl = { mechanism: mechanism as SaslMechanism, username, password }
    }
  }
  const isolation = (str('kafka.isolation.level') ?? 'read_committed').toLowerCase()
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') {
    throw invalid('kafka.isolation.level', `expected read_committed or read_uncommitted, got ${JSON.stringify(isolation)}`)
  }
  return {
    bootstrapBrokers: parseBootstrap(config.connectionParams['kafka.bootstrap.servers']),
    clientId: str('kafka.client.id') ?? `sluice-${pipelineId}`,
    groupId: str('kafka.group.id') ?? `sluice-${pipelineId}`,
    sasl,
    tls: protocol === 'SSL' || protocol === 'SASL_SSL',
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

function pick(username: string | undefined, password: string | undefined): Partial<KafkaLogin> {
  return { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) }
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
