/** Which settings the DLQ relay connects with: the source's on the source's brokers, else its own. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PipelineConfig } from '../../config/types.ts'
import { isSluiceError } from '../../errors.ts'
import { dlqConnectionInput, sameBrokers } from './inputs.ts'

const sourceParams = { 'kafka.bootstrap.servers': 'b1:9093,b2:9093', 'kafka.security.protocol': 'SASL_SSL', 'kafka.sasl.mechanism': 'SCRAM-SHA-512' }

function config(dlq: Record<string, unknown> | undefined, sourceType: 'kafka' | 'file' = 'kafka'): PipelineConfig {
  const extract = sourceType === 'kafka' ? { sourceType, credentialId: 'src-cred', connectionParams: sourceParams } : { sourceType }
  return { extract, errorHandlingConfig: dlq ? { dlqConfig: dlq } : {} } as unknown as PipelineConfig
}

test('a Kafka DLQ on the source brokers (any order, case, spacing) uses the source settings and credential', () => {
  assert.ok(sameBrokers('B2:9093, b1:9093', 'b1:9093,b2:9093'))
  assert.ok(!sameBrokers('b1:9093', 'b1:9093,b2:9093'))
  const r = dlqConnectionInput(config({ dlqType: 'kafka', bootstrapServers: ' b2:9093,B1:9093', topic: 'd' }), '/p')
  assert.deepEqual(r.input.options, sourceParams)
  assert.deepEqual(r.input.path, ['extract', 'connectionParams'])
  assert.equal(r.credentialId, 'src-cred')
})

test('a DLQ elsewhere, or with options of its own, uses only its own settings', () => {
  const other = dlqConnectionInput(config({ dlqType: 'kafka', bootstrapServers: 'other:9092', topic: 'd' }), '/p')
  assert.deepEqual(other.input.options, {})
  assert.deepEqual(other.input.bootstrap.path, ['errorHandlingConfig', 'dlqConfig', 'bootstrapServers'])
  assert.equal(other.credentialId, undefined)
  const own = dlqConnectionInput(config({ dlqType: 'kafka', bootstrapServers: 'b1:9093,b2:9093', topic: 'd', credentialId: 'dlq-cred', 'kafka.security.protocol': 'SSL' }), '/p')
  assert.deepEqual(own.input.options, { 'kafka.security.protocol': 'SSL' })
  assert.equal(own.credentialId, 'dlq-cred')
})

test('late topics next to a PostgreSQL DLQ go to the source cluster; without any Kafka it is a config error', () => {
  assert.deepEqual(dlqConnectionInput(config({ dlqType: 'postgresql', table: 't' }), '/p').input.options, sourceParams)
  assert.throws(() => dlqConnectionInput(config(undefined, 'file'), '/p'), (e) => isSluiceError(e, 'CONFIG_INVALID'))
})
