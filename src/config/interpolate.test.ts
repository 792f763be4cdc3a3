/** ${VAR} and ${VAR:-default} interpolation of string values, in parsePipeline and loadPipelineFile. */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isSluiceError } from '../errors.ts'
import { kafkaPipeline, setAt } from './fixtures.testkit.ts'
import { interpolate } from './interpolate.ts'
import { loadPipelineFile } from './load.ts'
import { parsePipeline } from './parse.ts'

test('replaces ${VAR}, ${VAR:-default}, keeps $${ literal, leaves keys alone', () => {
  const env = { HOST: 'db.local', EMPTY: '' }
  const r = interpolate({ a: '${HOST}', b: '${PORT:-5432}', c: 'x-${HOST}-${MISSING:-y}', d: '$${HOST}', e: '${EMPTY:-fallback}', f: '${EMPTY}', '${HOST}': 1, n: 3, list: ['${HOST}'] }, env)
  assert.deepEqual(r.issues, [])
  assert.deepEqual(r.value, { a: 'db.local', b: '5432', c: 'x-db.local-y', d: '${HOST}', e: 'fallback', f: '', '${HOST}': 1, n: 3, list: ['db.local'] })
})

test('an unset variable without default is an issue naming the path', () => {
  const config = setAt(kafkaPipeline(), 'load.connectionParams.host', '${DB_HOST}')
  const r = parsePipeline(config, { env: {} })
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.equal(r.issues.length, 1)
  assert.equal(r.issues[0]?.path, 'load.connectionParams.host')
  assert.match(r.issues[0]?.message ?? '', /environment variable DB_HOST is not set and has no default/)
})

test('invalid references are reported', () => {
  const r = interpolate({ a: '${1BAD}' }, {})
  assert.equal(r.issues[0]?.path, 'a')
  assert.match(r.issues[0]?.message ?? '', /invalid reference/)
})

test('interpolated strings are validated and coerced (port from env)', () => {
  const config = setAt(kafkaPipeline(), 'load.connectionParams.port', '${PGPORT:-5432}')
  const ok = parsePipeline(config, { env: { PGPORT: '6543' } })
  assert.ok(ok.ok)
  if (ok.ok) assert.equal(ok.config.load.connectionParams.port, 6543)
  const bad = parsePipeline(config, { env: { PGPORT: 'abc' } })
  assert.equal(bad.ok, false)
  if (!bad.ok) assert.equal(bad.issues[0]?.path, 'load.connectionParams.port')
})

test('parsePipeline without env does not interpolate', () => {
  const r = parsePipeline(setAt(kafkaPipeline(), 'load.table', '${TABLE:-t}'))
  assert.ok(r.ok)
  if (r.ok) assert.equal(r.config.load.table, '${TABLE:-t}')
})

test('loadPipelineFile: interpolation from options.env, baseDir, errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-config-'))
  try {
    const file = join(dir, 'p.json')
    await writeFile(file, JSON.stringify(setAt(kafkaPipeline(), 'load.table', '${TABLE:-orders}')))
    const loaded = await loadPipelineFile(file, { env: { TABLE: 'from_env' } })
    assert.equal(loaded.config.load.table, 'from_env')
    assert.equal(loaded.baseDir, dir)
    assert.equal(loaded.file, file)

    await writeFile(file, '{ "pipelineId": "x", "password": "hunter2" ')
    await assert.rejects(loadPipelineFile(file, { env: {} }), (err) => {
      assert.ok(isSluiceError(err, 'CONFIG_UNREADABLE'))
      assert.doesNotMatch(err.message, /hunter2/)
      return true
    })
    await assert.rejects(loadPipelineFile(join(dir, 'missing.json')), (err) => isSluiceError(err, 'CONFIG_UNREADABLE'))

    await writeFile(file, JSON.stringify(setAt(kafkaPipeline(), 'load.table', '${NOPE}')))
    await assert.rejects(loadPipelineFile(file, { env: {} }), (err) => {
      assert.ok(isSluiceError(err, 'CONFIG_INVALID'))
      const issues = err.details['issues'] as { path: string }[]
      assert.equal(issues[0]?.path, 'load.table')
      assert.match(err.message, /NOPE/)
      return true
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('nested defaults ${X:-${Y:-z}} resolve as in the shell, never literally; unclosed references are issues', () => {
  const r = interpolate({ a: '${X:-${Y:-z}}', b: '${X:-${Y:-z}}', c: 'pre-${X:-${Y}}-post', d: '${X:-${Y:-z}', e: '${X:-a$${b}' }, {})
  assert.equal((r.value as Record<string, unknown>).a, 'z')
  assert.equal((r.value as Record<string, unknown>).e, 'a${b', '$${ in a default is a literal ${')
  assert.deepEqual(r.issues.map((i) => i.path), ['c', 'd'])
  assert.match(r.issues[0]?.message ?? '', /Y is not set/)
  assert.match(r.issues[1]?.message ?? '', /unclosed reference/)
  const y = interpolate({ a: '${X:-${Y:-z}}', b: '${X:-${Y:-z}}!' }, { Y: 'from-y' })
  assert.deepEqual(y, { value: { a: 'from-y', b: 'from-y!' }, issues: [] })
  const x = interpolate({ a: '${X:-${Y}}' }, { X: 'from-x' })
  assert.deepEqual(x, { value: { a: 'from-x' }, issues: [] }, 'an unused default is not evaluated')
})
