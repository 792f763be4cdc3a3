import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SluiceError, errorCatalog, isSluiceError, toSluiceError, type ErrorCode } from './errors.ts'

const codes = Object.keys(errorCatalog) as ErrorCode[]

/** Rows of the table in docs/errors.md: code -> [retryable, meaning]. */
function documentedRows(): Array<{ code: string; retryable: string; meaning: string }> {
  const text = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  return [...text.matchAll(/^\| `([A-Z_]+)` \| (yes|no) \| (.*?) \| .* \|$/gm)].map((m) => ({
    code: m[1] ?? '',
    retryable: m[2] ?? '',
    meaning: m[3] ?? '',
  }))
}

test('codes are unique, upper snake case, and each has a one-line doc', () => {
  assert.equal(new Set(codes).size, codes.length)
  for (const code of codes) {
    assert.match(code, /^[A-Z]+(_[A-Z]+)*$/)
    assert.ok(errorCatalog[code].doc.length > 10 && !errorCatalog[code].doc.includes('\n'), code)
  }
})

test('docs/errors.md documents every code, and only those, with the same retryable flag and meaning', () => {
  const rows = documentedRows()
  const text = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  assert.equal(rows.length, text.split('\n').filter((l) => l.startsWith('| `')).length, 'every table row parses')
  const documented = rows.map((r) => r.code)
  assert.equal(new Set(documented).size, documented.length, 'no code documented twice')
  assert.deepEqual([...documented].sort(), [...codes].sort())
  for (const row of rows) {
    const entry = errorCatalog[row.code as ErrorCode]
    assert.equal(row.retryable, entry.retryable ? 'yes' : 'no', `retryable of ${row.code}`)
    assert.equal(row.meaning, entry.doc, `meaning of ${row.code}`)
  }
})

test('SluiceError carries code, retryable (catalog default or override), details and cause', () => {
  const cause = new Error('ECONNRESET')
  const e = new SluiceError('SINK_UNAVAILABLE', 'connection lost', { cause, details: { host: 'db' } })
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'SluiceError')
  assert.equal(e.code, 'SINK_UNAVAILABLE')
  assert.equal(e.retryable, true)
  assert.equal(e.message, 'connection lost')
  assert.deepEqual(e.details, { host: 'db' })
  assert.equal(e.cause, cause)
  assert.equal(new SluiceError('SINK_UNAVAILABLE', 'bad password', { retryable: false }).retryable, false)
  assert.equal(new SluiceError('RECORD_COLUMN', 'too long').retryable, false)
  assert.deepEqual(new SluiceError('INTERNAL', 'x').details, {})
  assert.ok(!('cause' in new SluiceError('INTERNAL', 'x')), 'no cause property without a cause')
})

test('isSluiceError and toSluiceError', () => {
  const e = new SluiceError('SINK_TIMEOUT', 't')
  assert.ok(isSluiceError(e))
  assert.ok(isSluiceError(e, 'SINK_TIMEOUT'))
  assert.ok(!isSluiceError(e, 'SINK_CONFLICT'))
  assert.ok(!isSluiceError(new Error('x')))
  assert.equal(toSluiceError(e), e)
  const wrapped = toSluiceError(new TypeError('boom'))
  assert.equal(wrapped.code, 'INTERNAL')
  assert.equal(wrapped.retryable, false)
  assert.equal(wrapped.message, 'boom')
  assert.equal(toSluiceError('plain string', 'SOURCE_UNAVAILABLE').code, 'SOURCE_UNAVAILABLE')
})

test('toJSON exposes code, message, retryable and details, never the cause', () => {
  const secret = 'postgres://etl:hunter2@db/app'
  const e = new SluiceError('SINK_UNAVAILABLE', 'could not connect to the sink database', {
    cause: new Error(`connect ECONNREFUSED ${secret}`),
    details: { host: 'db', port: 5432 },
  })
  const json = e.toJSON()
  assert.deepEqual(Object.keys(json).sort(), ['code', 'details', 'message', 'retryable'])
  const text = JSON.stringify(e)
  assert.ok(!text.includes('hunter2'), text)
  assert.deepEqual(JSON.parse(text), { code: 'SINK_UNAVAILABLE', message: 'could not connect to the sink database', retryable: true, details: { host: 'db', port: 5432 } })
})
