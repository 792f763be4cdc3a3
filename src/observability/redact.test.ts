import { test } from 'node:test'
import assert from 'node:assert/strict'
import { redactText, redactValue } from './redact.ts'

test('redactText masks URL credentials and key=value secrets, keeping JSON valid', () => {
  assert.equal(redactText('postgres://etl:pw@db:5432/app'), 'postgres://etl:***@db:5432/app')
  assert.equal(redactText('host=db password=pw user=u'), 'host=db password=*** user=u')
  assert.equal(redactText("password: 'a b'"), "password: '***'")
  const json = JSON.stringify({ msg: 'x', password: 'p"w', url: 'http://u:p@h/', n: { token: 't' } })
  const clean = redactText(json)
  assert.deepEqual(JSON.parse(clean), { msg: 'x', password: '***', url: 'http://u:***@h/', n: { token: '***' } })
  assert.equal(redactText('http://host:8080/path and user@example.com'), 'http://host:8080/path and user@example.com')
})

test('redactValue masks secret-named keys at any depth and leaves other objects alone', () => {
  const err = new Error('e')
  const input = { a: { b: [{ dbPassword: 'x', host: 'h' }] }, sasl: { user: 'u' }, credentialId: 'kafka-prod', err }
  const out = redactValue(input) as Record<string, unknown>
  assert.deepEqual(out.a, { b: [{ dbPassword: '[Redacted]', host: 'h' }] })
  assert.equal(out.sasl, '[Redacted]')
  assert.equal(out.credentialId, 'kafka-prod', 'a credential id is a name, not a secret')
  assert.equal(out.err, err)
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  assert.deepEqual(redactValue(cyclic), { self: '[Circular]' })
})
