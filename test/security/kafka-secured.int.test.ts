/**
 * Sluice on a secured Kafka cluster, through the CLI as the README runs it: the test broker's
 * SASL_SSL listener (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN) and SSL listener (client certificate
 * required), both with the private CA of scripts/test-pki.sh. The source reads the mixed bad-data
 * topic; dead letters go to a Kafka DLQ and late records to a Kafka topic, both on the secured
 * cluster and both topics that do not exist before the run. Every record must end in exactly one
 * place, as on the plaintext listener.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { deleteTopics, securedKafka, securedParams, uniqueTopic, type SecuredKind } from '../helpers/kafka.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { nullLogger } from '../../src/api/component.ts'
import { KafkaSource } from '../../src/components/sources/kafka/source.ts'
import { EVENT_SCHEMA, TABLE_DDL, assertDestinations, badDataPipeline, dlqTopicRecords, mixedTopic, tableOffsets } from '../bad-data/fixtures.ts'

const schemas: TestSchema[] = []
const topics: string[] = []
after(async () => {
  await Promise.all(schemas.map((s) => s.drop()))
  if (topics.length > 0) await deleteTopics(...topics)
})

type Config = {
  extract: { connectionParams: Record<string, unknown>; credentialId?: string }
  streamingConfigJson: { lateDataConfig: Record<string, unknown> }
  errorHandlingConfig: { dlqConfig: Record<string, unknown> }
}

interface Case {
  readonly name: string
  readonly source: SecuredKind
  /** The DLQ's own cluster settings; none = the source's brokers, so the source's security. */
  readonly dlq?: SecuredKind
  /** Log in through credentialId instead of the JAAS line. */
  readonly credential?: boolean
}

const cases: Case[] = [
  { name: 'SASL_SSL SCRAM-SHA-256 (login from credentialId)', source: 'SCRAM-SHA-256', credential: true },
  { name: 'SASL_SSL SCRAM-SHA-512 (JAAS line)', source: 'SCRAM-SHA-512' },
  { name: 'SASL_SSL PLAIN (JAAS line)', source: 'PLAIN' },
  { name: 'SSL with a client certificate', source: 'SSL' },
  { name: 'SASL_SSL source, DLQ on the SSL listener with security settings of its own', source: 'SCRAM-SHA-512', dlq: 'SSL' },
]

for (const c of cases) {
  test(`secured cluster, ${c.name}: source, Kafka DLQ and late topic (new topics); every record once`, async () => {
    const mixed = await mixedTopic('sec')
    const dlqTopic = uniqueTopic('sec-dlq')
    const lateTopic = uniqueTopic('sec-late')
    topics.push(mixed.topic, dlqTopic, lateTopic)
    const s = await createTestSchema('kafkasec')
    schemas.push(s)
    await s.pool.query(TABLE_DDL)
    const env: Record<string, string> = {}
    const { file } = await writePipeline(
      (dir: string) => {
        const config = badDataPipeline(s, mixed.topic, dir, { dlq: 'kafka', dlqTopic, strategy: 'sendtodlq', maxOffsets: mixed.phaseA }) as unknown as Config
        const params = securedParams(c.source)
        if (c.credential) {
          // The SASL login comes from the credential; the file names only the mechanism.
          delete params['kafka.sasl.jaas.config']
          config.extract.credentialId = 'kafkasec-scram'
          env['SLUICE_CREDENTIAL_KAFKASEC_SCRAM'] = JSON.stringify({ user: securedKafka.scram.username, password: securedKafka.scram.password })
        }
        Object.assign(config.extract.connectionParams, params)
        const dlqParams = c.dlq === undefined ? { 'kafka.bootstrap.servers': params['kafka.bootstrap.servers'] } : securedParams(c.dlq)
        const { 'kafka.bootstrap.servers': dlqServers, ...dlqSecurity } = dlqParams
        config.errorHandlingConfig.dlqConfig = { dlqType: 'kafka', bootstrapServers: dlqServers, topic: dlqTopic, ...dlqSecurity }
        config.streamingConfigJson.lateDataConfig.dlqTopic = lateTopic
        return config
      },
      { 'event.json': EVENT_SCHEMA },
    )
    const run = await runSluice(['run', file, '--json'], env)
    assert.equal(run.code, 0, run.stdout.slice(-2000) + run.stderr.slice(-3000))
    for (const secret of [securedKafka.scram.password, securedKafka.plain.password]) {
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'no password in the output')
    }
    // dlqConfig names the DLQ topic, lateDataConfig.dlqTopic the late one: both on the cluster.
    const dead = await dlqTopicRecords(dlqTopic, mixed.topic, `bad-${s.schema}`)
    const late = await dlqTopicRecords(lateTopic, mixed.topic, `bad-${s.schema}`)
    assert.ok(dead.length > 0 && dead.every((d) => d.code !== 'LATE_DATA'), 'dead letters in the DLQ topic')
    assert.ok(late.length > 0 && late.every((d) => d.code === 'LATE_DATA'), 'late records in the late topic')
    assertDestinations(mixed, await tableOffsets(s), dead, late)
  })
}

test('kafka.ssl.endpoint.identification.algorithm "" skips only the host-name check (the CA is still required)', async () => {
  const topic = uniqueTopic('sec-noverify')
  topics.push(topic)
  const ctx = { pipelineId: 'kafkasec-noverify', baseDir: process.cwd(), logger: nullLogger, env: {} }
  const params = (extra: Record<string, string>) => ({
    sourceType: 'kafka' as const,
    connectionParams: {
      'kafka.bootstrap.servers': securedKafka.wrongHost,
      subscribe: topic,
      startingOffsets: 'earliest' as const,
      failOnDataLoss: true,
      'kafka.security.protocol': 'SSL',
      'kafka.ssl.ca.location': `${securedKafka.pki}/ca.crt`,
      ...extra,
    },
  })
  const checked = new KafkaSource(params({}), ctx)
  await assert.rejects(checked.open(new AbortController().signal), (e: Error & { retryable?: boolean }) => /altnames/.test(e.message) && e.retryable === false)
  await checked.close()
  const unchecked = new KafkaSource(params({ 'kafka.ssl.endpoint.identification.algorithm': '' }), ctx)
  try {
    await unchecked.open(new AbortController().signal)
    assert.deepEqual(await unchecked.latest(new AbortController().signal), {})
  } finally {
    await unchecked.close()
  }
  const otherCa = new KafkaSource(params({ 'kafka.ssl.endpoint.identification.algorithm': '', 'kafka.ssl.ca.location': `${securedKafka.pki}/other-ca.crt` }), ctx)
  await assert.rejects(otherCa.open(new AbortController().signal), /self-signed certificate in certificate chain/)
  await otherCa.close()
})
