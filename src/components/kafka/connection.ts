/**
 * The one Kafka connection-settings builder: `kafka.*` options (the source's connectionParams, or
 * the Kafka DLQ's own options) -> brokers, SASL and TLS as @platformatic/kafka takes them. Every
 * problem is a ConfigIssue with the option's path, the value (redacted when secret) and what is
 * allowed, so `validate` and `run` refuse the same files with the same words.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { createSecureContext, type ConnectionOptions as TlsOptions } from 'node:tls'
import type { SASLOptions } from '@platformatic/kafka'
import { formatPath, safeValue } from '../../config/issues.ts'
import { configInvalid } from '../../config/issues.ts'
import type { ConfigIssue } from '../../config/types.ts'
import { KAFKA_SECURITY_OPTIONS, SASL_MECHANISMS, SECURITY_PROTOCOLS, bootstrapList, bootstrapProblem, type SaslMechanism, type SecurityProtocol } from './options.ts'

/** SASL login: username and password (from credentialId, or given inline). */
export interface KafkaLogin {
  readonly username: string
  readonly password: string
}

/** Where and how to connect: the part of a client's options that every Sluice Kafka client shares. */
export interface KafkaConnection {
  readonly bootstrapBrokers: string[]
  readonly protocol: SecurityProtocol
  readonly sasl: SASLOptions | undefined
  /** node:tls options for SSL / SASL_SSL (CA, client certificate, host-name check); undefined = plain TCP. */
  readonly tls: TlsOptions | undefined
  /** Whether a client certificate is configured (for the hint when a broker refuses the handshake). */
  readonly clientCertificate: boolean
}

export interface KafkaConnectionInput {
  /** `kafka.*` options as strings. */
  readonly options: Readonly<Record<string, string | undefined>>
  /** The bootstrap list (`host:port[,...]`) and where it was written. */
  readonly bootstrap: { readonly servers: string; readonly path: readonly string[] }
  /** JSON path of the object holding the options (`['extract', 'connectionParams']`). */
  readonly path: readonly string[]
  /** Folder relative certificate paths resolve against (the pipeline file's). */
  readonly baseDir: string
  /** The login resolved from credentialId, when there is one (it wins over inline options). */
  readonly login?: KafkaLogin
  /** When login will come from credentialId (resolved later): do not require inline credentials. */
  readonly loginLater?: boolean
}

/** Problems of the input, or the connection. */
export function buildKafkaConnection(input: KafkaConnectionInput): { ok: true; connection: KafkaConnection } | { ok: false; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = []
  const at = (option: string) => [...input.path, option]
  const issue = (path: readonly string[], value: unknown, message: string) => issues.push({ path: formatPath(path), value: safeValue(path, value), message })
  const get = (option: string): string | undefined => input.options[option]

  const problem = bootstrapProblem(input.bootstrap.servers)
  if (problem !== undefined) issue(input.bootstrap.path, input.bootstrap.servers, problem)

  const protocolRaw = get('kafka.security.protocol') ?? 'PLAINTEXT'
  const protocol = canonical(SECURITY_PROTOCOLS, protocolRaw)
  if (protocol === undefined) issue(at('kafka.security.protocol'), protocolRaw, `must be one of ${SECURITY_PROTOCOLS.join(', ')}`)

  // SASL: on for SASL_* protocols, and (as before) whenever a mechanism or a login is given.
  let sasl: SASLOptions | undefined
  const mechanismRaw = get('kafka.sasl.mechanism')
  if (protocol?.startsWith('SASL_') || mechanismRaw !== undefined || input.login !== undefined) {
    const mechanism = canonical(SASL_MECHANISMS, mechanismRaw ?? 'PLAIN')
    if (mechanism === undefined) {
      issue(at('kafka.sasl.mechanism'), mechanismRaw, `must be one of ${SASL_MECHANISMS.join(', ')} (GSSAPI/Kerberos is not supported)`)
    } else {
      const jaas = get('kafka.sasl.jaas.config')
      const inline = { ...(jaas === undefined ? {} : parseJaas(jaas)), ...defined({ username: get('kafka.sasl.username'), password: get('kafka.sasl.password') }) }
      const username = input.login?.username || inline.username
      const password = input.login?.password ?? inline.password
      if (mechanism === 'OAUTHBEARER') {
        if (password !== undefined) sasl = { mechanism, token: password }
        else if (!input.loginLater) issue(at('kafka.sasl.mechanism'), mechanismRaw, 'OAUTHBEARER needs a token: the password of credentialId')
      } else if (username && password !== undefined) {
        sasl = { mechanism: mechanism as Exclude<SaslMechanism, 'OAUTHBEARER'>, username, password }
      } else if (!input.loginLater) {
        issue(at('kafka.sasl.mechanism'), mechanismRaw ?? mechanism, `${mechanism} needs a username and password: set credentialId, kafka.sasl.username and kafka.sasl.password, or kafka.sasl.jaas.config`)
      }
    }
  }

  const tlsOn = protocol === 'SSL' || protocol === 'SASL_SSL'
  const sslGiven = KAFKA_SECURITY_OPTIONS.filter((k) => k.startsWith('kafka.ssl.') && input.options[k] !== undefined)
  if (!tlsOn && protocol !== undefined && sslGiven.length > 0) {
    for (const k of sslGiven) issue(at(k), get(k), `only used with kafka.security.protocol SSL or SASL_SSL (it is ${protocol}): TLS would silently be off`)
  }
  let tls: TlsOptions | undefined
  let clientCertificate = false
  if (tlsOn) {
    tls = {}
    const file = (option: string, kind: 'certificate' | 'key'): Buffer | undefined => {
      const given = get(option)
      if (given === undefined) return undefined
      const full = isAbsolute(given) ? given : resolve(input.baseDir, given)
      let bytes: Buffer
      try {
        bytes = readFileSync(full)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        issue(at(option), given, `cannot read the file ${full}${code === 'ENOENT' ? ': it does not exist' : code ? ` (${code})` : ''}; expected a PEM file`)
        return undefined
      }
      const marker = kind === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN (?:[A-Z]+ )?(?:ENCRYPTED )?PRIVATE KEY-----/
      if (!marker.test(bytes.toString('latin1'))) {
        issue(at(option), given, `${full} holds no PEM ${kind === 'certificate' ? 'certificate ("-----BEGIN CERTIFICATE-----")' : 'private key ("-----BEGIN ... PRIVATE KEY-----")'}`)
        return undefined
      }
      return bytes
    }
    const ca = file('kafka.ssl.ca.location', 'certificate')
    const cert = file('kafka.ssl.certificate.location', 'certificate')
    let key = file('kafka.ssl.key.location', 'key')
    if (cert !== undefined && key === undefined && get('kafka.ssl.key.location') === undefined) {
      // A combined PEM (key + certificate) in one file, as some tools write it.
      if (/PRIVATE KEY-----/.test(cert.toString('latin1'))) key = cert
      else issue(at('kafka.ssl.key.location'), undefined, 'required with kafka.ssl.certificate.location: the PEM file of the client key')
    }
    if (key !== undefined && get('kafka.ssl.certificate.location') === undefined) {
      issue(at('kafka.ssl.certificate.location'), undefined, 'required with kafka.ssl.key.location: the PEM file of the client certificate')
    }
    const passphrase = get('kafka.ssl.key.password')
    if (ca !== undefined) tls.ca = ca
    if (cert !== undefined && key !== undefined) {
      tls.cert = cert
      tls.key = key
      if (passphrase !== undefined) tls.passphrase = passphrase
      clientCertificate = true
    }
    const algorithm = get('kafka.ssl.endpoint.identification.algorithm')
    if (algorithm !== undefined && algorithm !== '' && algorithm.trim().toLowerCase() !== 'https') {
      issue(at('kafka.ssl.endpoint.identification.algorithm'), algorithm, 'must be "https" (check the host name, the default) or "" (do not check it)')
    } else if (algorithm === '') {
      // Java's "" : the chain is still verified against the CA, only the host name is not checked.
      tls.checkServerIdentity = () => undefined
    }
    // Loading the files now turns a wrong key password or a certificate that does not match its key
    // into a config error at start, not a failure on the first connection.
    if (issues.length === 0) {
      try {
        createSecureContext(tls)
      } catch (err) {
        const reason = (err as Error).message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, '')
        const option = /decrypt|passphrase|bad password/i.test(reason) ? 'kafka.ssl.key.password' : cert !== undefined ? 'kafka.ssl.key.location' : 'kafka.ssl.ca.location'
        issue(at(option), get(option), `the TLS files cannot be used: ${reason}`)
      }
    }
  }
  if (issues.length > 0 || protocol === undefined) return { ok: false, issues }
  return { ok: true, connection: { bootstrapBrokers: bootstrapList(input.bootstrap.servers), protocol, sasl, tls, clientCertificate } }
}

/** The connection, or CONFIG_INVALID listing every problem (the same text `validate` prints). */
export function kafkaConnection(input: KafkaConnectionInput): KafkaConnection {
  const r = buildKafkaConnection(input)
  if (!r.ok) throw configInvalid(r.issues)
  return r.connection
}

/** A plaintext connection to `brokers` (tests and tools talking to a local broker). */
export function plaintextConnection(brokers: readonly string[]): KafkaConnection {
  return { bootstrapBrokers: [...brokers], protocol: 'PLAINTEXT', sasl: undefined, tls: undefined, clientCertificate: false }
}

/** Reads username/password out of a JAAS line (PlainLoginModule / ScramLoginModule) as Spark users write it. */
export function parseJaas(jaas: string): Partial<KafkaLogin> {
  const field = (name: string): string | undefined => new RegExp(`\\b${name}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(jaas)?.[1]?.replace(/\\(.)/g, '$1')
  return defined({ username: field('username'), password: field('password') })
}

function canonical<const T extends string>(allowed: readonly T[], raw: string): T | undefined {
  const w = raw.trim().toUpperCase().replace(/-/g, '_')
  return allowed.find((a) => a.replace(/-/g, '_') === w)
}

function defined(v: { username: string | undefined; password: string | undefined }): Partial<KafkaLogin> {
  return { ...(v.username === undefined ? {} : { username: v.username }), ...(v.password === undefined ? {} : { password: v.password }) }
}
