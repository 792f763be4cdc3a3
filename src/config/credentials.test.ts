/** credentialId resolution from the environment and from an owner-only credentials file. */
import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isSluiceError } from '../errors.ts'
import { credentialEnvName, resolveCredential } from './credentials.ts'

test('env var name: upper case, non-alphanumerics to _', () => {
  assert.equal(credentialEnvName('postgres-prod-writer'), 'SLUICE_CREDENTIAL_POSTGRES_PROD_WRITER')
  assert.equal(credentialEnvName('kafka.sasl'), 'SLUICE_CREDENTIAL_KAFKA_SASL')
})

test('env var holding a plain password or a JSON object', async () => {
  assert.deepEqual(await resolveCredential('pg', { SLUICE_CREDENTIAL_PG: 's3cret' }), { password: 's3cret' })
  assert.deepEqual(await resolveCredential('pg-w', { SLUICE_CREDENTIAL_PG_W: '{"user":"etl","password":"p","port":5432}' }), { user: 'etl', password: 'p', port: '5432' })
  await assert.rejects(resolveCredential('pg', { SLUICE_CREDENTIAL_PG: '{not json' }), (err) => isSluiceError(err, 'CREDENTIAL_MISSING') && !err.message.includes('not json'))
})

test('credentials file: found, missing id, insecure mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cred-'))
  try {
    const file = join(dir, 'credentials.json')
    await writeFile(file, JSON.stringify({ 'postgres-prod-writer': { user: 'etl', password: 'pw' } }))
    await chmod(file, 0o600)
    const env = { SLUICE_CREDENTIALS_FILE: file }
    assert.deepEqual(await resolveCredential('postgres-prod-writer', env), { user: 'etl', password: 'pw' })
    await assert.rejects(resolveCredential('other', env), (err) => isSluiceError(err, 'CREDENTIAL_MISSING') && /SLUICE_CREDENTIAL_OTHER/.test(err.message))
    // The environment wins over the file.
    assert.deepEqual(await resolveCredential('postgres-prod-writer', { ...env, SLUICE_CREDENTIAL_POSTGRES_PROD_WRITER: 'x' }), { password: 'x' })
    await chmod(file, 0o640)
    await assert.rejects(resolveCredential('postgres-prod-writer', env), (err) => isSluiceError(err, 'CREDENTIAL_FILE_INSECURE') && !err.message.includes('pw'))
    // Default location is under HOME.
    await assert.rejects(resolveCredential('x', { HOME: dir }), (err) => isSluiceError(err, 'CREDENTIAL_MISSING') && err.message.includes(join(dir, '.config', 'sluice', 'credentials.json')))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
