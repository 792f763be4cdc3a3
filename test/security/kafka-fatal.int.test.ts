/**
 * Authentication and trust failures against the test broker's secured listeners are fatal at once:
 * `sluice run` (started as the README says) exits 1 within seconds, the message names the cause,
 * and nothing is retried as if it were a lost connection. The retry settings would take well over
 * the time limit if these failures were retried (5 attempts, 5 s initial delay).
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { kafkaBootstrap, securedKafka, securedParams, uniqueTopic } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { EVENT_SCHEMA, TABLE_DDL, badDataPipeline, mixedTopic } from '../bad-data/fixtures.ts'

const schemas: TestSchema[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
})

/** Retried, any of these would take > 20 s (backoff 5 s, 10 s, ...). */
const RETRY = { strategy: 'exponential', maxAttempts: 5, initialDelaySeconds: 5, maxDelaySeconds: 30 }
const LIMIT_MS = 15_000
const pki = securedKafka.pki

type Config = { extract: { connectionParams: Record<string, unknown>; credentialId?: string }; errorHandlingConfig: { dlqConfig: Record<string, unknown> } }

interface Case {
  readonly name: string
  /** The source's kafka.* options. */
  readonly source: Record<string, string>
  /** The Kafka DLQ's own options (a DLQ failure is tested with a good source). */
  readonly dlq?: Record<string, string>
  readonly env?: Record<string, string>
  readonly credentialId?: string
  readonly cause: RegExp
  /** Must not be in the output (a wrong password). */
  readonly secret?: string
  /** The failure must come before any batch ran. */
  readonly noBatch?: boolean
}

const sasl = securedParams('SCRAM-SHA-256')
const ssl = securedParams('SSL')
const wrongPassword = 'not-the-password-4711'

const cases: Case[] = [
  {
    name: 'a wrong SASL password (SCRAM-SHA-256, from credentialId)',
    source: { ...sasl, 'kafka.sasl.jaas.config': '' },
    credentialId: 'kafkasec-wrong',
    env: { SLUICE_CREDENTIAL_KAFKASEC_WRONG: JSON.stringify({ user: securedKafka.scram.username, password: wrongPassword }) },
    cause: /SOURCE_AUTH.*SASL authentication failed/s,
    secret: wrongPassword,
  },
  {
    name: 'a wrong SASL password (PLAIN, JAAS line)',
    source: { ...securedParams('PLAIN'), 'kafka.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${securedKafka.plain.username}" password="${wrongPassword}";` },
    cause: /SASL authentication failed/,
    secret: wrongPassword,
  },
  { name: 'a broker certificate from another CA', source: { ...ssl, 'kafka.ssl.ca.location': `${pki}/other-ca.crt` }, cause: /SOURCE_AUTH.*self-signed certificate in certificate chain/s },
  {
    name: 'a broker certificate for another host name',
    source: { ...ssl, 'kafka.bootstrap.servers': securedKafka.wrongHost, 'kafka.ssl.certificate.location': '', 'kafka.ssl.key.location': '' },
    cause: /Hostname\/IP does not match certificate's altnames/,
  },
  {
    name: 'no client certificate where the broker requires one',
    source: { ...ssl, 'kafka.ssl.certificate.location': '', 'kafka.ssl.key.location': '' },
    cause: /TLS: the broker refused the connection \(alert "[a-z ]*certificate[a-z ]*"\).*client certificate/,
  },
  {
    name: 'plaintext spoken to the TLS listener',
    source: { 'kafka.bootstrap.servers': securedKafka.ssl, 'kafka.security.protocol': 'PLAINTEXT' },
    cause: /Broker requires TLS.*kafka\.security\.protocol/s,
  },
  {
    name: 'TLS spoken to the plaintext listener',
    source: { 'kafka.bootstrap.servers': kafkaBootstrap, 'kafka.security.protocol': 'SSL', 'kafka.ssl.ca.location': `${pki}/ca.crt` },
    cause: /TLS handshake failed.*kafka\.security\.protocol/s,
  },
  {
    name: 'a wrong SASL password of a Kafka DLQ on its own settings (found at start, before any dead letter)',
    source: securedParams('SCRAM-SHA-512'),
    dlq: { ...securedParams('SCRAM-SHA-512'), 'kafka.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${securedKafka.scram.username}" password="${wrongPassword}";` },
    cause: /DLQ_AUTH.*SASL authentication failed/s,
    secret: wrongPassword,
    noBatch: true,
  },
  {
    name: 'an untrusted certificate of a Kafka DLQ on another listener (found at start, before any dead letter)',
    source: securedParams('SCRAM-SHA-512'),
    dlq: { ...ssl, 'kafka.ssl.ca.location': `${pki}/other-ca.crt` },
    cause: /DLQ_AUTH.*self-signed certificate in certificate chain/s,
    noBatch: true,
  },
]

for (const c of cases) {
  test(`sluice run fails at once with the cause for ${c.name}`, async () => {
    // The source topic exists only for the DLQ case (its records must reach the relay); the others fail before reading.
    const mixed = c.dlq ? await mixedTopic('fatal') : null
    const topic = mixed?.topic ?? uniqueTopic('fatal')
    const s = await createTestSchema('kafkasec')
    schemas.push(s)
    await s.pool.query(TABLE_DDL)
    const { file } = await writePipeline(
      (dir: string) => {
        const config = badDataPipeline(s, topic, dir, { dlq: 'kafka', dlqTopic: uniqueTopic('fatal-dlq'), strategy: 'drop', retry: RETRY }) as unknown as Config
        const params: Record<string, string> = {}
        for (const [k, v] of Object.entries(c.source)) if (v !== '') params[k] = v // '' = option removed
        Object.assign(config.extract.connectionParams, params)
        if (c.credentialId) config.extract.credentialId = c.credentialId
        const { 'kafka.bootstrap.servers': dlqServers, ...dlqSecurity } = c.dlq ?? { 'kafka.bootstrap.servers': params['kafka.bootstrap.servers'] as string }
        Object.assign(config.errorHandlingConfig.dlqConfig, { bootstrapServers: dlqServers, ...dlqSecurity })
        return config
      },
      { 'event.json': EVENT_SCHEMA },
    )
    const t0 = Date.now()
    const run = await runSluice(['run', file], c.env ?? {}, 60_000)
    const elapsed = Date.now() - t0
    const out = run.stdout + run.stderr
    assert.equal(run.code, 1, out.slice(-3000))
    assert.match(out, c.cause)
    assert.match(out, c.dlq ? /DLQ_AUTH/ : /SOURCE_AUTH/, 'the code of a refused login or handshake')
    assert.doesNotMatch(out, /metadata failed \d+ times|RETRIES_EXHAUSTED|retrying/i, 'not retried as a lost connection')
    assert.ok(elapsed < LIMIT_MS, `ended after ${elapsed} ms`)
    if (c.secret) assert.ok(!out.includes(c.secret), 'the wrong password is not in the output')
    if (c.noBatch) assert.doesNotMatch(out, /batch committed/)
  })
}
