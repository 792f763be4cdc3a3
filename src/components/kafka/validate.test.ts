/**
 * `sluice validate` refuses the Kafka security settings that `run` would refuse, with the JSON path,
 * the value and what is allowed, and never shows a secret.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { runValidate } from '../../cli/commands/validate.ts'

const SECRET = 'hunter2-kafka'

function pipeline(params: Record<string, unknown>, dlq?: Record<string, unknown>): Record<string, unknown> {
  return {
    pipelineId: 'sec',
    extract: { sourceType: 'kafka', topic: 't', connectionParams: { 'kafka.bootstrap.servers': 'k1:9093', ...params } },
    load: { sinkType: 'postgresql', table: 't', connectionParams: { host: 'h', database: 'd' } },
    ...(dlq ? { errorHandlingConfig: { dlqConfig: { dlqType: 'kafka', topic: 'dead', ...dlq } } } : {}),
  }
}

async function validate(config: Record<string, unknown>, files: Record<string, string> = {}): Promise<{ exitCode: number; text: string; json: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-kafkasec-'))
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content)
    const file = join(dir, 'p.json')
    await writeFile(file, JSON.stringify(config))
    const text = await runValidate([file], { env: {} })
    const json = await runValidate([file], { env: {}, json: true })
    return { exitCode: text.exitCode, text: text.output, json: json.output }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const sasl = { 'kafka.security.protocol': 'SASL_SSL', 'kafka.sasl.mechanism': 'SCRAM-SHA-512', 'kafka.sasl.username': 'u', 'kafka.sasl.password': SECRET }

const refused: { name: string; config: Record<string, unknown>; files?: Record<string, string>; expect: RegExp }[] = [
  { name: 'protocol TLS', config: pipeline({ 'kafka.security.protocol': 'TLS' }), expect: /extract\.connectionParams\["kafka\.security\.protocol"\]: must be one of "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL".*\(got "TLS"\)/ },
  { name: 'mechanism GSSAPI', config: pipeline({ ...sasl, 'kafka.sasl.mechanism': 'GSSAPI' }), expect: /\["kafka\.sasl\.mechanism"\]: must be one of "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER".*\(got "GSSAPI"\)/ },
  { name: 'a bootstrap list with ";"', config: pipeline({ 'kafka.bootstrap.servers': 'k1:9092;k2:9092' }), expect: /\["kafka\.bootstrap\.servers"\]: not host:port .*"k1:9092;k2:9092"/ },
  { name: 'a bootstrap entry without a port', config: pipeline({ 'kafka.bootstrap.servers': 'k1:9092,k2' }), expect: /\["kafka\.bootstrap\.servers"\]: not host:port \(port 1-65535\): \\?"k2\\?"/ },
  { name: 'a DLQ bootstrap list with a bad port', config: pipeline({}, { bootstrapServers: 'k1:99999' }), expect: /errorHandlingConfig\.dlqConfig\.bootstrapServers: not host:port/ },
  { name: 'a missing CA file', config: pipeline({ ...sasl, 'kafka.ssl.ca.location': 'certs/missing-ca.pem' }), expect: /\["kafka\.ssl\.ca\.location"\]: cannot read the file .*missing-ca\.pem: it does not exist; expected a PEM file \(got "certs\/missing-ca\.pem"\)/ },
  { name: 'a CA file that is no certificate', config: pipeline({ ...sasl, 'kafka.ssl.ca.location': 'ca.pem' }), files: { 'ca.pem': 'not a certificate' }, expect: /\["kafka\.ssl\.ca\.location"\]: .*holds no PEM certificate/ },
  { name: 'a client certificate without a key', config: pipeline({ 'kafka.security.protocol': 'SSL', 'kafka.ssl.certificate.location': 'c.pem' }), files: { 'c.pem': '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n' }, expect: /\["kafka\.ssl\.key\.location"\]: required with kafka\.ssl\.certificate\.location/ },
  { name: 'TLS options with a plaintext protocol', config: pipeline({ 'kafka.ssl.ca.location': 'ca.pem' }), expect: /\["kafka\.ssl\.ca\.location"\]: only used with kafka\.security\.protocol SSL or SASL_SSL \(it is PLAINTEXT\)/ },
  { name: 'SASL without a login', config: pipeline({ 'kafka.security.protocol': 'SASL_SSL', 'kafka.sasl.mechanism': 'SCRAM-SHA-256' }), expect: /\["kafka\.sasl\.mechanism"\]: SCRAM-SHA-256 needs a username and password/ },
  { name: 'a bad endpoint identification algorithm', config: pipeline({ ...sasl, 'kafka.ssl.endpoint.identification.algorithm': 'none' }), expect: /\["kafka\.ssl\.endpoint\.identification\.algorithm"\]: must be "https" .* or ""/ },
  { name: 'a DLQ on another cluster with a missing client key', config: pipeline({}, { bootstrapServers: 'other:9093', 'kafka.security.protocol': 'SSL', 'kafka.ssl.certificate.location': 'c.pem', 'kafka.ssl.key.location': 'nokey.pem', 'kafka.ssl.key.password': SECRET }), files: { 'c.pem': '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n' }, expect: /errorHandlingConfig\.dlqConfig\["kafka\.ssl\.key\.location"\]: cannot read the file/ },
  { name: 'security options on a PostgreSQL DLQ', config: { ...pipeline({}), errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'd', 'kafka.sasl.password': SECRET } } }, expect: /errorHandlingConfig\.dlqConfig\["kafka\.sasl\.password"\]: only used with dlqType kafka/ },
]

for (const c of refused) {
  test(`validate refuses ${c.name}, naming path, value and what is allowed`, async () => {
    const r = await validate(c.config, c.files)
    assert.equal(r.exitCode, 1, r.text)
    assert.match(r.text, c.expect)
    assert.ok(!r.text.includes(SECRET) && !r.json.includes(SECRET), `no secret in the output:\n${r.text}`)
  })
}

test('validate accepts lenient spellings and a JAAS line, and shows no secret of it', async () => {
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="${SECRET}";`
  const r = await validate(pipeline({ 'kafka.security.protocol': 'sasl_ssl', 'kafka.sasl.mechanism': 'scram-sha-256', 'kafka.sasl.jaas.config': jaas }))
  assert.equal(r.exitCode, 0, r.text)
  assert.ok(!r.text.includes(SECRET) && !r.json.includes(SECRET), r.json)
  assert.match(r.json, /"kafka\.security\.protocol": "SASL_SSL"/)
  assert.match(r.json, /"kafka\.sasl\.mechanism": "SCRAM-SHA-256"/)
  assert.match(r.text, /extract {3}kafka topics t from k1:9093 \(SASL_SSL SCRAM-SHA-256\)/)
})
