/** Secrets never leave through toJson, issues or messages. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isSecretKey, redactSecrets, redactUrl } from './redact.ts'

test('secret keys', () => {
  for (const k of ['password', 'PGPASSWORD', 'kafka.sasl.jaas.config', 'kafka.ssl.key.password', 'clientSecret', 'token']) assert.ok(isSecretKey(k), k)
  for (const k of ['user', 'host', 'credentialId', 'topic']) assert.ok(!isSecretKey(k), k)
})

test('urls keep everything but the password', () => {
  assert.equal(redactUrl('postgres://u:p%40ss@h:5432/db?x=1'), 'postgres://u:***@h:5432/db?x=1')
  assert.equal(redactUrl('postgres://u@h/db'), 'postgres://u@h/db')
  assert.equal(redactUrl('see postgresql://a:b@c/d and pglite://./data'), 'see postgresql://a:***@c/d and pglite://./data')
})

test('deep redaction copies and leaves the input alone', () => {
  const input = { a: { password: 'x', list: [{ token: 't' }], url: 'postgres://u:p@h/db' }, n: 1, empty: { password: '' } }
  assert.deepEqual(redactSecrets(input), { a: { password: '***', list: [{ token: '***' }], url: 'postgres://u:***@h/db' }, n: 1, empty: { password: '' } })
  assert.equal(input.a.password, 'x')
})
