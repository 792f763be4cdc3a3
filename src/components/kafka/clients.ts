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

/** The options every client takes: id, brokers, timeouts, retries, SASL and TLS. */
export function baseClientOptions(connection: KafkaConnection, tuning: ClientTuning) {
  return {
    clientId: tuning.clientId,
    bootstrapBrokers: connection.bootstrapBrokers,
    connectTimeout: tuning.connectTimeoutMs ?? 10_000,
    requestTimeout: tuning.requestTimeoutMs ?? 30_000,
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
type ConsumerExtras = Omit<ConsumerOptions<Buffer, Buffer, Buffer, Buffer>, Secured>

export function createConsumer(connection: KafkaConnection, tuning: ClientTuning, extras: ConsumerExtras): Consumer {
  return new Consumer({ ...baseClientOptions(connection, tuning), ...extras })
}

type ProducerExtras = Omit<ProducerOptions<Buffer, Buffer, Buffer, Buffer>, Secured>

export function createProducer(connection: KafkaConnection, tuning: ClientTuning, extras: ProducerExtras): Producer {
  return new Producer({ ...baseClientOptions(connection, tuning), ...extras })
}
