import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isSluiceError } from '../../../errors.ts'
import { connectPlan, sslSettings } from './tls.ts'

test('sslSettings: connectionParams over the URL over PG* variables; the URL reaching pg has no ssl* parameters', () => {
  const env = { PGSSLMODE: 'require', PGSSLROOTCERT: '/env/ca.pem' }
  assert.deepEqual(sslSettings({}, {}).settings, { mode: 'prefer' }, 'libpq default')
  assert.deepEqual(sslSettings({}, env).settings, { mode: 'require', rootcert: '/env/ca.pem' })
  const url = 'postgres://u:p@db:5432/x?sslmode=verify-full&sslrootcert=ca.pem&application_name=a'
  const fromUrl = sslSettings({ url }, env)
  assert.deepEqual(fromUrl.settings, { mode: 'verify-full', rootcert: 'ca.pem' })
  assert.equal(fromUrl.url, 'postgres://u:p@db:5432/x?application_name=a')
  assert.deepEqual(sslSettings({ url, sslmode: 'verify-ca', sslrootcert: 'own.pem' }, env).settings, { mode: 'verify-ca', rootcert: 'own.pem' })
  assert.equal(sslSettings({ url: 'postgres://u@db/x' }, {}).url, 'postgres://u@db/x', 'a URL without ssl parameters is passed on unchanged')
  assert.throws(() => sslSettings({ url: 'postgres://db/x?sslmode=no-verify' }, {}), (e: unknown) => isSluiceError(e, 'CONFIG_INVALID') && /no-verify/.test(e.message))
  assert.throws(() => sslSettings({ sslcert: 'c.pem' }, {}), (e: unknown) => isSluiceError(e, 'CONFIG_INVALID') && /sslcert and sslkey go together/.test(e.message))
})

test('connectPlan: attempts and verification per sslmode, files read relative to the pipeline folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'))
  try {
    writeFileSync(join(dir, 'ca.pem'), 'CA')
    const plain = (mode: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full', rootcert?: string) =>
      connectPlan({ mode, ...(rootcert ? { rootcert } : {}) }, 'db.example', dir)
    assert.deepEqual(plain('disable').attempts, [false])
    assert.equal(plain('allow').attempts[0], false)
    assert.equal(plain('prefer').attempts[1], false)
    assert.equal(plain('require').attempts.length, 1)
    const tlsOf = (p: ReturnType<typeof plain>) => p.attempts.find((a) => a !== false) as Exclude<(typeof p.attempts)[number], false>
    assert.equal(tlsOf(plain('require')).rejectUnauthorized, false, 'require alone does not verify')
    assert.equal(tlsOf(plain('require', 'ca.pem')).rejectUnauthorized, true, 'require with a root certificate verifies the chain')
    assert.equal(String(tlsOf(plain('require', 'ca.pem')).ca), 'CA')
    assert.equal(tlsOf(plain('verify-ca')).rejectUnauthorized, true)
    const fakeCert = { subject: { CN: 'other.example' }, subjectaltname: 'DNS:other.example' } as never
    assert.equal(tlsOf(plain('verify-ca', 'ca.pem')).checkServerIdentity?.('db.example', fakeCert), undefined, 'verify-ca ignores the name')
    assert.ok(tlsOf(plain('verify-full', 'ca.pem')).checkServerIdentity?.('db.example', fakeCert) instanceof Error, 'verify-full checks the name')
    assert.equal(tlsOf(plain('verify-full', 'system')).ca, undefined, 'system: the default trust store')
    writeFileSync(join(dir, 'client.key'), 'KEY')
    chmodSync(join(dir, 'client.key'), 0o644) // (explicitly: the umask may have narrowed the mode)
    writeFileSync(join(dir, 'client.crt'), 'CERT')
    const withKey = () => connectPlan({ mode: 'require', cert: 'client.crt', key: 'client.key' }, 'db', dir)
    assert.throws(withKey, (e: unknown) => isSluiceError(e, 'CONFIG_INVALID') && /readable by others \(mode 644\); make it owner-only/.test(e.message))
    chmodSync(join(dir, 'client.key'), 0o600)
    assert.equal(String((withKey().attempts[0] as { key?: unknown }).key), 'KEY')
    assert.throws(() => plain('verify-full', 'missing.pem'), (e: unknown) => isSluiceError(e, 'CONFIG_INVALID') && e.message.includes(join(dir, 'missing.pem')))
    // Fallbacks: prefer on a server without TLS, allow on a pg_hba refusal; never on a wrong password.
    assert.equal(plain('prefer').fallBack(new Error('The server does not support SSL connections')), true)
    assert.equal(plain('prefer').fallBack(Object.assign(new Error('password authentication failed'), { code: '28P01' })), false)
    assert.equal(plain('allow').fallBack(Object.assign(new Error('no pg_hba.conf entry'), { code: '28000' })), true)
    assert.equal(plain('allow').fallBack(Object.assign(new Error('password authentication failed'), { code: '28P01' })), false)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
