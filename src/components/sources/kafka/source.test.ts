import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nullLogger, type ComponentContext } from '../../../api/component.ts'
import { isSluiceError } from '../../../errors.ts'
import type { KafkaExtractConfig } from './config.ts'
import { kafkaSource } from './index.ts'

const signal = new AbortController().signal
const ctx = (env: Record<string, string> = {}): ComponentContext => ({ pipelineId: 'p', baseDir: '.', logger: nullLogger, env })
const cfg = (params: Record<string, unknown>, credentialId?: string): KafkaExtractConfig =>
  ({
    sourceType: 'kafka',
    ...(credentialId ? { credentialId } : {}),
    connectionParams: { 'kafka.bootstrap.servers': '127.0.0.1:1', subscribe: 't', startingOffsets: 'earliest', failOnDataLoss: true, 'kafka.socket.connection.setup.timeout.ms': '300', ...params },
  }) as KafkaExtractConfig

test('a bad option fails when the source is created', () => {
  assert.throws(() => kafkaSource.create(cfg({ 'kafka.security.protocol': 'bogus' }), ctx()), (e) => isSluiceError(e, 'CONFIG_INVALID'))
  assert.throws(() => kafkaSource.create(cfg({ subscribePattern: '[' }), ctx()), (e) => isSluiceError(e, 'CONFIG_INVALID'))
})

test('an unknown credentialId is CREDENTIAL_MISSING, not retried', async () => {
  const s = kafkaSource.create(cfg({}, 'nope'), ctx({ HOME: '/nonexistent', SLUICE_CREDENTIALS_FILE: '/nonexistent/c.json' }))
  await assert.rejects(s.open(signal), (e) => isSluiceError(e, 'CREDENTIAL_MISSING') && !e.retryable)
  await s.close()
})

test('a credential from the environment is used, and its password never shows in errors', async () => {
  const env = { SLUICE_CREDENTIAL_KAFKA_PROD: JSON.stringify({ user: 'svc', password: 'pw-very-secret' }) }
  const s = kafkaSource.create(cfg({ 'kafka.security.protocol': 'SASL_PLAINTEXT', 'kafka.sasl.mechanism': 'SCRAM-SHA-256' }, 'kafka-prod'), ctx(env))
  await assert.rejects(s.open(signal), (e) => {
    assert.ok(isSluiceError(e, 'SOURCE_UNAVAILABLE'))
    assert.equal(e.retryable, true)
    assert.doesNotMatch(`${e.message} ${JSON.stringify(e.toJSON())}`, /pw-very-secret/)
    return true
  })
  await s.close()
})
