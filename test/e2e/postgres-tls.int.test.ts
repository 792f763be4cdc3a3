/**
 * TLS to PostgreSQL with libpq's sslmode meanings, and authentication / trust failures that stop a
 * run at once with their cause. Two throw-away clusters started here (test/helpers/pg-cluster.ts):
 * one with TLS from the private CA (scripts/test-pki.sh; hostssl only, scram-sha-256 and a cert
 * entry for the client certificate, also reachable as 127.0.0.2, a name its certificate lacks) and
 * one without TLS. Everything goes through the CLI; `sluice sql` reports from pg_stat_ssl whether
 * its own connection is encrypted.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { CLIENT_CERT_USER, CLUSTER_PASSWORD, CLUSTER_USER, startPgCluster, type PgCluster } from '../helpers/pg-cluster.ts'

let tls: PgCluster
let plain: PgCluster

const SSL_QUERY = 'SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()'

function params(cluster: PgCluster, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: cluster.host, port: cluster.port, database: cluster.database, user: CLUSTER_USER, password: CLUSTER_PASSWORD, ...extra }
}

function pipeline(connectionParams: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    pipelineId: `pg-tls-${Math.random().toString(36).slice(2, 8)}`,
    mode: 'batch',
    extract: { sourceType: 'generator', totalRecords: 10, fields: { id: { type: 'sequence' }, v: { type: 'string' } } },
    load: { sinkType: 'postgresql', table: 'gen', connectionParams },
    ...overrides,
  }
}

interface Outcome {
  readonly code: number | null
  /** pg_stat_ssl.ssl of the connection, when the query ran. */
  readonly ssl?: boolean
  readonly clientDn?: string | null
  readonly error?: { code: string; message: string }
}

/** Runs `sluice sql` with the given connection; whether its connection was encrypted, or the error. */
async function probe(connectionParams: Record<string, unknown>, files: Record<string, string> = {}): Promise<Outcome> {
  const { file, dir } = await writePipeline(pipeline(connectionParams))
  for (const [name, from] of Object.entries(files)) await copyFile(from, join(dir, name))
  const r = await runSluice(['sql', file, SSL_QUERY, '--json'])
  const out = JSON.parse(r.stdout) as [{ ssl: boolean; client_dn: string | null }] | { ok: false; error: { code: string; message: string } }
  if (Array.isArray(out)) return { code: r.code, ssl: out[0].ssl, clientDn: out[0].client_dn }
  return { code: r.code, error: out.error }
}

function assertEncrypted(o: Outcome, encrypted: boolean, what: string): void {
  assert.equal(o.code, 0, `${what}: ${JSON.stringify(o.error)}`)
  assert.equal(o.ssl, encrypted, what)
}

function assertRefused(o: Outcome, cause: RegExp, what: string): void {
  assert.equal(o.code, 1, `${what}: expected a failure, got ${JSON.stringify(o)}`)
  assert.equal(o.error?.code, 'SINK_AUTH', `${what}: ${JSON.stringify(o.error)}`)
  assert.match(o.error?.message ?? '', cause, what)
}

describe('PostgreSQL TLS as libpq does it (own clusters with a private CA)', { timeout: 300_000 }, () => {
  before(async () => {
    ;[tls, plain] = await Promise.all([startPgCluster({ tls: true }), startPgCluster({ tls: false, port: 55436 })])
  })
  after(async () => {
    await Promise.all([tls?.stop(), plain?.stop()])
  })

  test('default (prefer) encrypts when the server has TLS and falls back to plain TCP when it has none', async () => {
    assertEncrypted(await probe(params(tls)), true, 'prefer, TLS server')
    assertEncrypted(await probe(params(plain)), false, 'prefer, plain server')
    assertEncrypted(await probe(params(plain, { sslmode: 'prefer' })), false, 'sslmode prefer, plain server')
  })

  test('allow tries plain first, then TLS when the server refuses plain; disable never encrypts', async () => {
    assertEncrypted(await probe(params(plain, { sslmode: 'allow' })), false, 'allow, plain server')
    assertEncrypted(await probe(params(tls, { sslmode: 'allow' })), true, 'allow, hostssl-only server')
    const disabled = await probe(params(tls, { sslmode: 'disable' }))
    assertRefused(disabled, /no pg_hba\.conf entry for host "127\.0\.0\.1", user "sluice_tls", database "postgres", no encryption/, 'disable, hostssl-only server')
  })

  test('require encrypts without verifying; with sslrootcert it verifies the chain (like verify-ca)', async () => {
    assertEncrypted(await probe(params(tls, { sslmode: 'require' })), true, 'require, private CA not given')
    assertRefused(await probe(params(plain, { sslmode: 'require' })), /does not support SSL/, 'require, plain server')
    assertRefused(
      await probe(params(tls, { sslmode: 'require', sslrootcert: join(tls.pki, 'other-ca.crt') })),
      /self-signed certificate in certificate chain/,
      'require with another CA',
    )
    assertEncrypted(await probe(params(tls, { host: '127.0.0.2', sslmode: 'require', sslrootcert: join(tls.pki, 'ca.crt') })), true, 'require + CA, host not checked')
  })

  test('verify-ca checks the chain but not the host name; verify-full checks both', async () => {
    const ca = join(tls.pki, 'ca.crt')
    assertEncrypted(await probe(params(tls, { host: '127.0.0.2', sslmode: 'verify-ca', sslrootcert: ca })), true, 'verify-ca, name not in the certificate')
    assertRefused(await probe(params(tls, { sslmode: 'verify-ca', sslrootcert: join(tls.pki, 'other-ca.crt') })), /self-signed certificate in certificate chain/, 'verify-ca, other CA')
    assertRefused(await probe(params(tls, { sslmode: 'verify-ca' })), /self-signed certificate in certificate chain/, 'verify-ca, system CAs only')
    assertEncrypted(await probe(params(tls, { sslmode: 'verify-full', sslrootcert: ca })), true, 'verify-full 127.0.0.1')
    assertEncrypted(await probe(params(tls, { host: 'localhost', sslmode: 'verify-full', sslrootcert: ca })), true, 'verify-full localhost')
    assertRefused(
      await probe(params(tls, { host: '127.0.0.2', sslmode: 'verify-full', sslrootcert: ca })),
      /Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.2 is not in the cert's list/,
      'verify-full, host-name mismatch',
    )
    assertRefused(await probe(params(plain, { sslmode: 'verify-full', sslrootcert: ca })), /does not support SSL/, 'verify-full, plain server')
  })

  test('sslmode and certificates in the URL (relative paths from the pipeline folder); a client certificate logs in without a password', async () => {
    const url = (host: string, query: string, user = `${CLUSTER_USER}:${CLUSTER_PASSWORD}`) => `postgres://${user}@${host}:${tls.port}/postgres?${query}`
    assertEncrypted(await probe({ url: url('localhost', 'sslmode=verify-full&sslrootcert=ca.crt') }, { 'ca.crt': join(tls.pki, 'ca.crt') }), true, 'URL verify-full')
    assertRefused(await probe({ url: url('127.0.0.2', 'sslmode=verify-full&sslrootcert=ca.crt') }, { 'ca.crt': join(tls.pki, 'ca.crt') }), /does not match certificate's altnames/, 'URL verify-full, wrong host')
    assertEncrypted(await probe({ url: url('127.0.0.2', 'sslmode=verify-ca&sslrootcert=ca.crt') }, { 'ca.crt': join(tls.pki, 'ca.crt') }), true, 'URL verify-ca, wrong host is fine')
    assertRefused(await probe({ url: url('127.0.0.1', 'sslmode=disable') }), /no encryption/, 'URL disable')

    const cert = { sslmode: 'verify-full', sslrootcert: join(tls.pki, 'ca.crt'), sslcert: join(tls.pki, 'client.crt'), sslkey: join(tls.pki, 'client.key') }
    const withCert = await probe({ host: tls.host, port: tls.port, database: tls.database, user: CLIENT_CERT_USER, ...cert })
    assertEncrypted(withCert, true, 'client certificate')
    assert.equal(withCert.clientDn, `/CN=${CLIENT_CERT_USER}`)
    const urlCert = `postgres://${CLIENT_CERT_USER}@127.0.0.1:${tls.port}/postgres?sslmode=verify-full&sslrootcert=ca.crt&sslcert=client.crt&sslkey=client.key`
    const files = { 'ca.crt': join(tls.pki, 'ca.crt'), 'client.crt': join(tls.pki, 'client.crt'), 'client.key': join(tls.pki, 'client.key') }
    assertEncrypted(await probe({ url: urlCert }, files), true, 'client certificate in the URL')
    const noCert = await probe({ host: tls.host, port: tls.port, database: tls.database, user: CLIENT_CERT_USER, sslmode: 'verify-full', sslrootcert: join(tls.pki, 'ca.crt') })
    assertRefused(noCert, /certificate authentication failed for user "sluice-client"|connection requires a valid client certificate/, 'cert user without a certificate')
  })

  test('a wrong password, an untrusted certificate or a host-name mismatch stops `run` at once with exit 1 and the cause', async () => {
    // Generous retries: an error taken for a lost connection would take minutes (and log retries).
    const retrying = { errorHandlingConfig: { retryConfig: { strategy: 'fixed', maxAttempts: 20, initialDelaySeconds: 10, maxDelaySeconds: 10 } } }
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['wrong password', params(tls, { password: 'not-the-password' }), /password authentication failed for user "sluice_tls"/],
      ['untrusted certificate', params(tls, { sslmode: 'verify-full', sslrootcert: join(tls.pki, 'other-ca.crt') }), /self-signed certificate in certificate chain/],
      ['host-name mismatch', params(tls, { host: '127.0.0.2', sslmode: 'verify-full', sslrootcert: join(tls.pki, 'ca.crt') }), /Hostname\/IP does not match certificate's altnames/],
    ]
    for (const [what, connectionParams, cause] of cases) {
      const { file } = await writePipeline(pipeline(connectionParams, retrying))
      const started = Date.now()
      const r = await runSluice(['run', file], {}, 60_000)
      const output = r.stdout + r.stderr
      assert.equal(r.code, 1, `${what}: ${output.slice(-2000)}`)
      assert.match(output, /SINK_AUTH/, what)
      assert.match(output, cause, what)
      assert.doesNotMatch(output, /retrying/, `${what}: not retried`)
      assert.ok(Date.now() - started < 30_000, `${what}: stopped at once (${Date.now() - started} ms)`)
      assert.doesNotMatch(output, /not-the-password/, 'the password is never echoed')
    }
  })
})
