import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SluiceError } from '../../../errors.ts'
import { classifyError, copyColumn, copyLine, isDataError, redact, rejectReason } from './classify-error.ts'

function pgError(code: string, message: string, extra: Record<string, string> = {}): Error {
  return Object.assign(new Error(message), { code }, extra)
}

test('SQLSTATEs map to codes and retryability', () => {
  const cases: Array<[string, string, boolean]> = [
    ['08006', 'SINK_UNAVAILABLE', true],
    ['57P01', 'SINK_UNAVAILABLE', true],
    ['53300', 'SINK_UNAVAILABLE', true],
    ['40001', 'SINK_CONFLICT', true],
    ['40P01', 'SINK_CONFLICT', true],
    ['57014', 'SINK_TIMEOUT', true],
    ['55P03', 'SINK_TIMEOUT', true],
    ['28P01', 'SINK_AUTH', false],
    ['28000', 'SINK_AUTH', false],
    ['3D000', 'SINK_UNAVAILABLE', false],
    ['22001', 'RECORD_COLUMN', false],
    ['23502', 'RECORD_COLUMN', false],
    ['42P01', 'SINK_SCHEMA', false],
    ['25P02', 'INTERNAL', false],
  ]
  for (const [state, code, retryable] of cases) {
    const e = classifyError(pgError(state, 'x'), 'doing')
    assert.deepEqual([e.code, e.retryable], [code, retryable], state)
  }
})

test('network and client errors map to unavailable or timeout', () => {
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'w').code, 'SINK_UNAVAILABLE')
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 'w').code, 'SINK_TIMEOUT')
  for (const code of ['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']) {
    const e = classifyError(Object.assign(new Error(`write ${code}`), { code }), 'w')
    assert.deepEqual([e.code, e.retryable, e.details.sqlstate], ['SINK_UNAVAILABLE', true, undefined], code)
  }
  assert.equal(classifyError(new Error('Connection terminated unexpectedly'), 'w').code, 'SINK_UNAVAILABLE')
  assert.equal(classifyError(new Error('timeout exceeded when trying to connect'), 'w').code, 'SINK_TIMEOUT')
  const own = new SluiceError('SINK_FENCED', 'f')
  assert.equal(classifyError(own, 'w'), own)
})

test('TLS trust failures are SINK_AUTH, never retried, and keep their cause', () => {
  const cases: Array<[string, string]> = [
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1"],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca'],
  ]
  for (const [code, message] of cases) {
    const e = classifyError(Object.assign(new Error(message), { code }), 'opening postgres://h/db')
    assert.deepEqual([e.code, e.retryable], ['SINK_AUTH', false], code)
    assert.ok(e.message.includes(message), e.message)
  }
  const noTls = classifyError(new Error('The server does not support SSL connections'), 'opening')
  assert.deepEqual([noTls.code, noTls.retryable], ['SINK_AUTH', false])
})

test('data errors are recognised and explained without the value', () => {
  assert.ok(isDataError(pgError('23514', 'check')))
  assert.ok(!isDataError(pgError('40001', 'ser')))
  const e = pgError('22P02', 'invalid input syntax for type integer: "secret-ish value"', { where: 'COPY events, line 3, column amount: "secret-ish value"' })
  assert.equal(rejectReason(e), 'invalid input syntax for type integer; column amount')
  assert.equal(copyLine(e), 3)
  assert.equal(copyColumn('COPY events, line 1: "a\tb"'), undefined)
  assert.equal(rejectReason(pgError('23503', 'insert or update on table "events" violates foreign key constraint "fk"', { constraint: 'fk' })), 'insert or update on table "events" violates foreign key constraint "fk"')
})

test('redact removes passwords and URL credentials', () => {
  assert.equal(redact('failed for pw123 at postgres://u:pw123@h/db', ['pw123']), 'failed for *** at postgres://u:***@h/db')
  assert.equal(redact('see postgres://bob:hunter2@db:5432/x', []), 'see postgres://bob:***@db:5432/x')
  assert.ok(!classifyError(new Error('auth failed: hunter2'), 'open', ['hunter2']).message.includes('hunter2'))
})
