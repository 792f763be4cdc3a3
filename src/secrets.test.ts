/** The one redaction module: secret-like names, URL passwords, free text, deep copies. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { REDACTED, isSecretName, redactSecrets, redactText, redactUrlCredentials } from './secrets.ts'

test('secret-like names, misspellings included; names of secrets and ordinary keys are not', () => {
  const secret = ['password', 'PGPASSWORD', 'dbPassword', 'kafka.sasl.jaas.config', 'kafka.ssl.key.password', 'kafka.sasl.password', 'clientSecret', 'token', 'apiKey', 'api_key',
    'privateKey', 'credentials', 'pasword', 'passwrod', 'pssword', 'kafka.sasl.pasword', 'secert', 'sslpassword', 'pwd', 'pass', 'Authorization']
  for (const k of secret) assert.ok(isSecretName(k), k)
  const plain = ['user', 'host', 'port', 'credentialId', 'topic', 'kafka.sasl.mechanism', 'kafka.sasl.username', 'kafka.security.protocol', 'select', 'secure', 'passed', 'taken',
    'upsertKeys', 'primaryKey', 'sslkey', 'kafka.ssl.key.location', 'message', 'msg', 'url']
  for (const k of plain) assert.ok(!isSecretName(k), k)
})

test('URL passwords are masked whole, a raw @ or / inside included', () => {
  assert.equal(redactUrlCredentials('postgres://u:p%40ss@h:5432/db?x=1'), 'postgres://u:***@h:5432/db?x=1')
  assert.equal(redactUrlCredentials('postgres://u:p@ss@word@host/db'), 'postgres://u:***@host/db')
  assert.equal(redactUrlCredentials('postgres://u:pa/ss@host/db'), 'postgres://u:***@host/db')
  assert.equal(redactUrlCredentials('postgres://u@h/db'), 'postgres://u@h/db')
  assert.equal(redactUrlCredentials('see postgresql://a:b@c/d and pglite://./data'), 'see postgresql://a:***@c/d and pglite://./data')
  assert.equal(redactUrlCredentials('http://host:8080/path and user@example.com'), 'http://host:8080/path and user@example.com')
  assert.equal(redactUrlCredentials('{"url":"postgres://u:p@x@h/db","n":1}'), '{"url":"postgres://u:***@h/db","n":1}')
})

test('free text: secret pairs masked, ordinary words of a message never', () => {
  assert.equal(redactText('host=db password=pw user=u'), 'host=db password=*** user=u')
  assert.equal(redactText("password: 'a b'"), "password: '***'")
  assert.equal(redactText('connect with pasword=hunter2 failed'), 'connect with pasword=*** failed')
  const json = JSON.stringify({ msg: 'login with password=x failed', password: 'p"w', url: 'http://u:p@h/', n: { token: 't', count: 3 } })
  assert.deepEqual(JSON.parse(redactText(json)), { msg: 'login with password=*** failed', password: '***', url: 'http://u:***@h/', n: { token: '***', count: 3 } })
  for (const ordinary of [
    'SASL: authentication failed for user "etl"',
    'token: expected a number',
    'password authentication failed for user "etl"',
    'secret: none configured',
    'Unexpected token } in JSON at position 4',
    'batch 3 committed: 10 rows, secure=true, passed=5, taken=2',
  ]) {
    assert.equal(redactText(ordinary), ordinary)
  }
})

test('deep copies mask secret-named keys at any depth and leave the input and non-plain objects alone', () => {
  const err = new Error('e')
  const input = { a: { password: 'x', list: [{ token: 't' }], url: 'postgres://u:p@h/db' }, n: 1, empty: { password: '' }, sasl: { mechanism: 'plain', password: 'p' }, credentialId: 'kafka-prod', err }
  assert.deepEqual(redactSecrets(input), {
    a: { password: REDACTED, list: [{ token: REDACTED }], url: 'postgres://u:***@h/db' },
    n: 1,
    empty: { password: '' },
    sasl: { mechanism: 'plain', password: REDACTED },
    credentialId: 'kafka-prod',
    err,
  })
  assert.equal(input.a.password, 'x')
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  assert.deepEqual(redactSecrets(cyclic), { self: '[Circular]' })
  const proto = redactSecrets(JSON.parse('{"__proto__":{"password":"x"}}') as Record<string, unknown>)
  assert.ok(Object.hasOwn(proto, '__proto__'), '__proto__ stays an own key')
  assert.equal(Object.getPrototypeOf(proto), Object.prototype)
})
