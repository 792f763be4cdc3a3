/** The Kafka connection-settings builder: SASL from every source of a login, TLS files, refusals. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { buildKafkaConnection, kafkaConnection, type KafkaConnectionInput } from './connection.ts'
import { permanentCause } from './failure.ts'
import { baseClientOptions } from './clients.ts'
import { isSluiceError } from '../../errors.ts'

const pki = mkdtempSync(join(tmpdir(), 'sluice-kafkasec-pki-'))
execFileSync('bash', [new URL('../../../scripts/test-pki.sh', import.meta.url).pathname, pki], { stdio: 'ignore' })
after(() => rmSync(pki, { recursive: true, force: true }))

function input(options: Record<string, string>, extra: Partial<KafkaConnectionInput> = {}): KafkaConnectionInput {
  return { options, bootstrap: { servers: 'b1:9093, b2:9093', path: ['extract', 'connectionParams', 'kafka.bootstrap.servers'] }, path: ['extract', 'connectionParams'], baseDir: pki, ...extra }
}

test('SSL: CA, client certificate and key are read (relative to the pipeline folder); the host name is checked by default', () => {
  const c = kafkaConnection(input({ 'kafka.security.protocol': 'SSL', 'kafka.ssl.ca.location': 'ca.crt', 'kafka.ssl.certificate.location': 'client.crt', 'kafka.ssl.key.location': join(pki, 'client.key') }))
  assert.deepEqual(c.bootstrapBrokers, ['b1:9093', 'b2:9093'])
  assert.equal(c.sasl, undefined)
  assert.deepEqual(c.tls?.ca, readFileSync(join(pki, 'ca.crt')))
  assert.deepEqual(c.tls?.cert, readFileSync(join(pki, 'client.crt')))
  assert.equal(c.tls?.checkServerIdentity, undefined, "Node's own host-name check stays on")
  assert.equal(c.clientCertificate, true)
  const opts = baseClientOptions(c, { clientId: 'x' })
  assert.equal(opts.tls, c.tls)
  assert.equal(opts.tlsServerName, true, 'SNI for host names')
})

test('endpoint identification "" turns only the host-name check off; a combined PEM serves as certificate and key', () => {
  writeFileSync(join(pki, 'combined.pem'), readFileSync(join(pki, 'client.key'), 'utf8') + readFileSync(join(pki, 'client.crt'), 'utf8'))
  const c = kafkaConnection(input({ 'kafka.security.protocol': 'SASL_SSL', 'kafka.sasl.jaas.config': 'x required username="u" password="p";', 'kafka.ssl.endpoint.identification.algorithm': '', 'kafka.ssl.certificate.location': 'combined.pem' }))
  assert.equal(c.tls?.checkServerIdentity?.('wrong.example', {} as never), undefined)
  assert.ok(c.tls?.ca === undefined, 'system CAs')
  assert.deepEqual(c.sasl, { mechanism: 'PLAIN', username: 'u', password: 'p' })
  assert.equal(c.clientCertificate, true)
})

test('a key that does not belong to the certificate is refused at build time, not at the first connection', () => {
  const r = buildKafkaConnection(input({ 'kafka.security.protocol': 'SSL', 'kafka.ssl.certificate.location': 'client.crt', 'kafka.ssl.key.location': 'server.key' }))
  assert.equal(r.ok, false)
  assert.match(JSON.stringify(!r.ok && r.issues), /the TLS files cannot be used/)
})

test('credentials: a login (credentialId) wins over inline ones; loginLater defers the check; secrets never in errors', () => {
  const c = kafkaConnection(input({ 'kafka.security.protocol': 'SASL_SSL', 'kafka.sasl.mechanism': 'SCRAM-SHA-256', 'kafka.sasl.username': 'inline' }, { login: { username: 'cred', password: 'pw' } }))
  assert.deepEqual(c.sasl, { mechanism: 'SCRAM-SHA-256', username: 'cred', password: 'pw' })
  assert.equal(buildKafkaConnection(input({ 'kafka.security.protocol': 'SASL_SSL' }, { loginLater: true })).ok, true)
  assert.throws(
    () => kafkaConnection(input({ 'kafka.security.protocol': 'SASL_SSL', 'kafka.sasl.password': 'hunter2', 'kafka.ssl.key.password': 'hunter3', 'kafka.ssl.key.location': 'missing.key' })),
    (e) => isSluiceError(e, 'CONFIG_INVALID') && /kafka\.ssl\.key\.location/.test(e.message) && !/hunter[23]/.test(e.message + JSON.stringify(e.details)),
  )
})

test('permanent causes: SASL refusal, certificate errors, TLS/plaintext mismatch; a refused TCP connect is transient', () => {
  const wrap = (inner: Error) => Object.assign(new AggregateError([Object.assign(new Error('Connection to h:1 failed.'), { code: 'PLT_KFK_NETWORK', cause: inner })], 'metadata failed 3 times.'), { code: 'PLT_KFK_MULTIPLE' })
  assert.match(permanentCause(wrap(Object.assign(new Error('SASL authentication failed.'), { code: 'PLT_KFK_AUTHENTICATION' }))) ?? '', /SASL authentication failed/)
  assert.match(permanentCause(wrap(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))) ?? '', /self-signed certificate in certificate chain/)
  assert.match(permanentCause(wrap(Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }))) ?? '', /altnames/)
  assert.match(permanentCause(Object.assign(new Error('Broker requires TLS.'), { code: 'PLT_KFK_USER' })) ?? '', /kafka\.security\.protocol/)
  assert.equal(permanentCause(wrap(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))), undefined)
  assert.equal(permanentCause(Object.assign(new Error('Unknown topic t.'), { code: 'PLT_KFK_USER' })), undefined)
})
