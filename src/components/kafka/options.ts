/**
 * The Kafka connection options every Kafka client of Sluice understands, with the names Spark and
 * librdkafka users write (`kafka.security.protocol`, `kafka.sasl.mechanism`, `kafka.ssl.ca.location`
 * ...). One zod shape serves the Kafka source's `connectionParams` and the Kafka DLQ's `dlqConfig`,
 * so both document, validate and refuse the same way.
 */
import * as z from 'zod'
import { lenientEnum, text } from '../../config/lenient.ts'

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number]

/** What @platformatic/kafka speaks. GSSAPI (Kerberos) is not among them. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const
export type SaslMechanism = (typeof SASL_MECHANISMS)[number]

/** The connection (security) options, by name; every one is optional. */
export const KAFKA_SECURITY_OPTIONS = [
  'kafka.security.protocol',
  'kafka.sasl.mechanism',
  'kafka.sasl.username',
  'kafka.sasl.password',
  'kafka.sasl.jaas.config',
  'kafka.ssl.ca.location',
  'kafka.ssl.certificate.location',
  'kafka.ssl.key.location',
  'kafka.ssl.key.password',
  'kafka.ssl.endpoint.identification.algorithm',
] as const

const secret = (description: string) => z.string({ error: 'must be a string' }).describe(description)

/** Zod fields of the connection options (spread into an object schema). */
export const kafkaSecurityShape = {
  'kafka.security.protocol': lenientEnum(
    SECURITY_PROTOCOLS,
    'PLAINTEXT (default), SSL (TLS), SASL_PLAINTEXT or SASL_SSL (SASL over TLS), as the Kafka clients name them.',
  ).optional(),
  'kafka.sasl.mechanism': lenientEnum(
    SASL_MECHANISMS,
    'SASL mechanism: PLAIN (default), SCRAM-SHA-256, SCRAM-SHA-512, or OAUTHBEARER (the token is the credential\'s password). GSSAPI is not supported.',
  ).optional(),
  'kafka.sasl.username': text('SASL user name; prefer credentialId (its user) or kafka.sasl.jaas.config.').optional(),
  'kafka.sasl.password': secret('SASL password; prefer credentialId or ${VAR} interpolation. Never shown in any output.').optional(),
  'kafka.sasl.jaas.config': secret(
    'JAAS line as Spark users write it: org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p"; (PlainLoginModule too). Supplies username and password; never shown in any output.',
  ).optional(),
  'kafka.ssl.ca.location': text('PEM file of the CA certificate(s) that signed the brokers\' certificates (default: the system\'s CAs). Relative to the pipeline file.').optional(),
  'kafka.ssl.certificate.location': text('PEM file of the client certificate (mutual TLS), relative to the pipeline file; needs kafka.ssl.key.location unless the file holds the key too.').optional(),
  'kafka.ssl.key.location': text('PEM file of the client certificate\'s private key, relative to the pipeline file.').optional(),
  'kafka.ssl.key.password': secret('Password of an encrypted kafka.ssl.key.location. Never shown in any output.').optional(),
  'kafka.ssl.endpoint.identification.algorithm': z
    .string({ error: 'must be "https" or ""' })
    .refine((v) => v === '' || v.trim().toLowerCase() === 'https', { error: 'must be "https" (check the broker\'s host name, the default) or "" (do not check it)' })
    .describe('"https" (default): the broker certificate must name the host connected to; "": it need not (the chain is still verified), as in the Java client.')
    .optional(),
} satisfies Record<(typeof KAFKA_SECURITY_OPTIONS)[number], z.ZodType>

/** Why `servers` is not a `host:port[,host:port...]` list, or undefined when it is one. */
export function bootstrapProblem(servers: string): string | undefined {
  const list = bootstrapList(servers)
  if (list.length === 0) return 'expected "host:port[,host:port...]"'
  for (const s of list) {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/\[\]]+)):(\d+)$/.exec(s)
    const port = m ? Number(m[3]) : NaN
    if (!m || !(port >= 1 && port <= 65535)) return `not host:port (port 1-65535): ${JSON.stringify(s)}; expected "host:port[,host:port...]"`
  }
  return undefined
}

/** The bootstrap list as the client takes it; call after bootstrapProblem said nothing. */
export function bootstrapList(servers: string): string[] {
  return servers.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}

/** A bootstrap-servers field: non-empty and a `host:port` list. */
export function bootstrapServersSchema(description: string) {
  return text(description).check(
    z.superRefine((v, ctx) => {
      const problem = bootstrapProblem(v)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', input: v, message: problem })
    }),
  )
}
