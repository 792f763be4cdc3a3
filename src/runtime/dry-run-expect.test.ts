/** `sluice test --expect`: members an expected line names must match; missing and extra lines are differences. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exactNumber } from '../engine/exact-number.ts'
import type { DryRunLine } from './dry-run.ts'
import { compareExpected, parseExpected } from './dry-run-expect.ts'

const source = { topic: 't', partition: 0, offset: '0' }
const actual: DryRunLine[] = [
  { record: 1, source, outcome: 'row', row: { id: exactNumber('9007199254740993'), at: new Date(0) } as Record<string, unknown> },
  { record: 2, source: { ...source, offset: '1' }, outcome: 'dead', code: 'RECORD_SCHEMA', reason: 'id: must be integer', to: 'table t_dlq' },
]

test('an expectation names only what it checks; member order does not matter; numbers compare exactly', () => {
  const expected = parseExpected('{"outcome": "row", "row": {"at": "1970-01-01T00:00:00.000Z", "id": 9007199254740993}}\n\n{"outcome": "dead", "code": "RECORD_SCHEMA"}\n', 'e.ndjson')
  assert.deepEqual(compareExpected(actual, expected), [])
})

test('every difference is reported: a member, a rounded number, a missing and an extra line', () => {
  const wrong = parseExpected('{"row": {"at": "1970-01-01T00:00:00.000Z", "id": 9007199254740992}}\n{"outcome": "row"}\n{"outcome": "filtered"}', 'e.ndjson')
  const d = compareExpected(actual, wrong)
  assert.equal(d.length, 3)
  assert.match(d[0] ?? '', /^line 1 \(record 1\): row expected .*9007199254740992.*got .*9007199254740993/)
  assert.match(d[1] ?? '', /^line 2 \(record 2\): outcome expected "row", got "dead"/)
  assert.match(d[2] ?? '', /^line 3: expected \{"outcome":"filtered"\}, but there is no such output line/)
  const fewer = compareExpected(actual, parseExpected('{"outcome": "row"}', 'e.ndjson'))
  assert.equal(fewer.length, 1)
  assert.match(fewer[0] ?? '', /^line 2 \(record 2\): not expected: .*RECORD_SCHEMA/)
  assert.throws(() => parseExpected('[1]', 'e.ndjson'), /e\.ndjson line 1: must be a JSON object/)
  assert.throws(() => parseExpected('{', 'e.ndjson'), /e\.ndjson line 1: not JSON/)
})
