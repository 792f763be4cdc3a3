import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { KafkaExtractConfig } from './config.ts'
import { isSluiceError } from '../../../errors.ts'
import { kafkaSettings as settingsFor, parseJaas, topicSelection, type KafkaLogin } from './options.ts'

const kafkaSettings = (config: KafkaExtractConfig, pipelineId: string, login?: KafkaLogin) => settingsFor(config, { pipelineId, baseDir: '/' }, login)

function cfg(params: Record<string, unknown>, topic?: string): KafkaExtractConfig {
  return {
    sourceType: 'kafka',
    ...(topic ? { topic } : {}),
    connectionParams: { 'kafka.bootstrap.servers': 'b1:9092,b2:9093', startingOffsets: 'earliest', failOnDataLoss: true, ...params },
  } as KafkaExtractConfig
}

test('defaults: client and group id from the pipeline, read_committed, 1 MiB fetches, no TLS/SASL', () => {
  const s = kafkaSettings(cfg({ subscribe: 't' }), 'orders')
  assert.deepEqual(s.connection.bootstrapBrokers, ['b1:9092', 'b2:9093'])
  assert.equal(s.clientId, 'sluice-orders')
  assert.equal(s.groupId, 'sluice-orders')
  assert.equal(s.isolationLevel, 1)
  assert.equal(s.fetchMaxBytes, 1024 * 1024)
  assert.equal(s.connection.sasl, undefined)
  assert.equal(s.connection.tls, undefined)
  assert.deepEqual(s.ignored, [])
})

test('pass-through options are mapped; unknown ones are listed by name', () => {
  const s = kafkaSettings(
    cfg({
      subscribe: 't',
      'kafka.group.id': 'g',
      'kafka.client.id': 'c',
      'kafka.isolation.level': 'read_uncommitted',
      'kafka.fetch.max.bytes': '2048',
      'kafka.request.timeout.ms': '5000',
      'kafka.auto.offset.reset': 'earliest',
      'kafka.ssl.keystore.password': 'nope',
    }),
    'p',
  )
  assert.equal(s.groupId, 'g')
  assert.equal(s.clientId, 'c')
  assert.equal(s.isolationLevel, 0)
  assert.equal(s.fetchMaxBytes, 2048)
  assert.equal(s.requestTimeoutMs, 5000)
  assert.deepEqual(s.ignored, ['kafka.auto.offset.reset', 'kafka.ssl.keystore.password'])
})

test('SASL: a resolved login wins over inline fields; JAAS lines are understood', () => {
  const inline = kafkaSettings(cfg({ subscribe: 't', 'kafka.security.protocol': 'SASL_SSL', 'kafka.sasl.mechanism': 'SCRAM-SHA-512', 'kafka.sasl.username': 'u', 'kafka.sasl.password': 'p' }), 'x')
  assert.deepEqual(inline.connection.sasl, { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' })
  assert.deepEqual(inline.connection.tls, {})
  const login = kafkaSettings(cfg({ subscribe: 't', 'kafka.security.protocol': 'SASL_PLAINTEXT', 'kafka.sasl.username': 'u' }), 'x', { username: 'cred', password: 'secret' })
  assert.deepEqual(login.connection.sasl, { mechanism: 'PLAIN', username: 'cred', password: 'secret' })
  assert.deepEqual(parseJaas('org.apache.kafka.common.security.plain.PlainLoginModule required username="a b" password="p\\"q";'), { username: 'a b', password: 'p"q' })
  const jaas = kafkaSettings(cfg({ subscribe: 't', 'kafka.sasl.mechanism': 'PLAIN', 'kafka.sasl.jaas.config': 'X required username="j" password="k";' }), 'x')
  assert.deepEqual(jaas.connection.sasl, { mechanism: 'PLAIN', username: 'j', password: 'k' })
})

test('bad options are CONFIG_INVALID with the path, and never echo a password', () => {
  const bad = [
    { 'kafka.security.protocol': 'TLS' },
    { 'kafka.sasl.mechanism': 'GSSAPI' },
    { 'kafka.security.protocol': 'SASL_SSL' },
    { 'kafka.isolation.level': 'dirty' },
    { 'kafka.fetch.max.bytes': '-1' },
    { 'kafka.sasl.mechanism': 'PLAIN', 'kafka.sasl.password': 'hunter2' },
  ]
  for (const params of bad) {
    assert.throws(
      () => kafkaSettings(cfg({ subscribe: 't', ...params }), 'x'),
      (e) => isSluiceError(e, 'CONFIG_INVALID') && /extract\.connectionParams(\["kafka\.|\.kafka\.)/.test(e.message) && !/hunter2/.test(e.message),
      JSON.stringify(params),
    )
  }
  for (const servers of [' , ', 'nohost', 'h:0', 'h:99999', 'a:1;b:2', 'http://h:1']) {
    assert.throws(() => kafkaSettings(cfg({ subscribe: 't', 'kafka.bootstrap.servers': servers }), 'x'), (e) => isSluiceError(e, 'CONFIG_INVALID') && /kafka\.bootstrap\.servers/.test(e.message), servers)
  }
  assert.deepEqual(kafkaSettings(cfg({ subscribe: 't', 'kafka.bootstrap.servers': '[::1]:9092, h:1,' }), 'x').connection.bootstrapBrokers, ['[::1]:9092', 'h:1'])
})

test('topic selection: subscribe list, whole-name pattern, topic fallback, never internal topics', () => {
  const all = ['orders', 'orders-eu', 'payments', '__consumer_offsets', 'x.orders']
  assert.deepEqual(topicSelection(cfg({ subscribe: 'payments, orders,missing' })).select(all), ['orders', 'payments'])
  assert.deepEqual(topicSelection(cfg({ subscribePattern: 'orders.*' })).select(all), ['orders', 'orders-eu'])
  assert.deepEqual(topicSelection(cfg({ subscribePattern: '.*' })).select(all), ['orders', 'orders-eu', 'payments', 'x.orders'])
  assert.deepEqual(topicSelection(cfg({}, 'payments')).select(all), ['payments'])
  assert.throws(() => topicSelection(cfg({})), (e) => isSluiceError(e, 'CONFIG_INVALID'))
  assert.throws(() => topicSelection(cfg({ subscribe: 'a', subscribePattern: 'b' })), (e) => isSluiceError(e, 'CONFIG_INVALID'))
  assert.throws(() => topicSelection(cfg({ subscribePattern: '(' })), (e) => isSluiceError(e, 'CONFIG_INVALID'))
})

test('a credential alone turns SASL PLAIN on; a credential without user name is refused', () => {
  const s = kafkaSettings(cfg({ subscribe: 't' }), 'x', { username: 'u', password: 'p' })
  assert.deepEqual(s.connection.sasl, { mechanism: 'PLAIN', username: 'u', password: 'p' })
  assert.equal(s.connection.tls, undefined)
  assert.throws(() => kafkaSettings(cfg({ subscribe: 't' }), 'x', { username: '', password: 'secret-pw' }), (e) => isSluiceError(e, 'CONFIG_INVALID') && !/secret-pw/.test(e.message))
  const oauth = kafkaSettings(cfg({ subscribe: 't', 'kafka.sasl.mechanism': 'OAUTHBEARER' }), 'x', { username: '', password: 'tok' })
  assert.deepEqual(oauth.connection.sasl, { mechanism: 'OAUTHBEARER', token: 'tok' })
})
