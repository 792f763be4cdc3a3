/**
 * The one Kafka client factory: every Admin, Consumer and Producer of Sluice is made here from a
 * KafkaConnection (brokers, SASL, TLS), so no client can forget the cluster's security.
 */
import { Admin, Consumer, Producer, type ConsumerOptions, type ProducerOptions } from '@platformatic/kafka'
import type { KafkaConnection } from './connection.ts'

/** Per-client tuning; the connection supplies everything security-related. */
export interface ClientTuning {
  readonly clientId: string
  readonly connectTimeoutMs?: number
  readonly requestTimeoutMs?: number
  readonly retries?: number
  readonly retryDelayMs?: number
}

const CONNECT_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 30_000

/**
 * What a reading client (metadata, ListOffsets, Fetch) is opened with: the connection plus its
 * tuning. The Kafka source and the outbox relay's recovery read both build it with readerSettings.
 */
export interface ReaderSettings {
  /** Brokers, SASL and TLS (connection.ts). */
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
}

/** A reader's tuning: the client id, and whatever differs from the defaults. */
export type ReaderTuning = { readonly clientId: string } & { readonly [K in Exclude<keyof ReaderSettings, 'connection' | 'clientId'>]?: ReaderSettings[K] | undefined }

/** The one builder of reader settings: what is not given takes Sluice's defaults. */
export function readerSettings(connection: KafkaConnection, given: ReaderTuning): ReaderSettings {
  return {
    connection,
    clientId: given.clientId,
    groupId: given.groupId ?? given.clientId,
    connectTimeoutMs: given.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    requestTimeoutMs: given.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    // 1 MiB responses, not Kafka's 50 MiB: pipelining hides the extra round trips, and a larger
    // value no longer costs more CPU (sources/kafka/contiguous-reads.ts joins the client's chunk list
    // before it parses; sources/kafka/reader.ts asks a partition for no more than its range needs;
    // docs/benchmarks.md).
    fetchMaxBytes: given.fetchMaxBytes ?? 1024 * 1024,
    partitionMaxBytes: given.partitionMaxBytes ?? 1024 * 1024,
    fetchMaxWaitMs: given.fetchMaxWaitMs ?? 100,
    isolationLevel: given.isolationLevel ?? 1,
  }
}

/** The options every client takes: id, brokers, timeouts, retries, SASL and TLS. */
/** The connection tuning part of reader settings, for the clients a reader makes. */
export function clientTuning(settings: ReaderSettings): ClientTuning {
  return { clientId: settings.clientId, connectTimeoutMs: settings.connectTimeoutMs, requestTimeoutMs: settings.requestTimeoutMs }
}

export function baseClientOptions(connection: KafkaConnection, tuning: ClientTuning) {
  return {
    clientId: tuning.clientId,
    bootstrapBrokers: connection.bootstrapBrokers,
    connectTimeout: tuning.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    requestTimeout: tuning.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    retries: tuning.retries ?? 2,
    retryDelay: tuning.retryDelayMs ?? 250,
    // Topics are created on purpose, never by a metadata request.
    autocreateTopics: false,
    ...(connection.sasl ? { sasl: connection.sasl } : {}),
    ...(connection.tls ? { tls: connection.tls, tlsServerName: serverNameFor(connection) } : {}),
  }
}

/** SNI for host names (clusters behind a TLS proxy need it); never for IP addresses (RFC 6066). */
function serverNameFor(connection: KafkaConnection): boolean {
  return connection.bootstrapBrokers.every((b) => !/^\[|^\d+\.\d+\.\d+\.\d+:/.test(b))
}

export function createAdmin(connection: KafkaConnection, tuning: ClientTuning): Admin {
  return new Admin(baseClientOptions(connection, tuning))
}

/** Security comes from the connection only; callers may tune anything else. */
type Secured = 'clientId' | 'bootstrapBrokers' | 'sasl' | 'tls' | 'ssl' | 'tlsServerName'
/** Omit over each member of a union (the client's consumer options are one: classic or consumer group protocol). */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

type ConsumerExtras = DistributiveOmit<ConsumerOptions<Buffer, Buffer, Buffer, Buffer>, Secured>

export function createConsumer(connection: KafkaConnection, tuning: ClientTuning, extras: ConsumerExtras): Consumer {
  return new Consumer({ ...baseClientOptions(connection, tuning), ...extras })
}

type ProducerExtras = Omit<ProducerOptions<Buffer, Buffer, Buffer, Buffer>, Secured>

export function createProducer(connection: KafkaConnection, tuning: ClientTuning, extras: ProducerExtras): Producer {
  return new Producer({ ...baseClientOptions(connection, tuning), ...extras })
}
