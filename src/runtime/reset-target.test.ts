import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ResetTargetError, parseResetTarget } from './reset-target.ts'
import { describeTarget } from '../api/reset.ts'

function refused(value: string, message: RegExp): void {
  assert.throws(() => parseResetTarget(value), (err: unknown) => err instanceof ResetTargetError && message.test(err.message), value)
}

test('earliest and latest, in any case and with spaces', () => {
  assert.deepEqual(parseResetTarget('earliest'), { kind: 'earliest' })
  assert.deepEqual(parseResetTarget(' LATEST '), { kind: 'latest' })
  assert.deepEqual(parseResetTarget('Earliest'), { kind: 'earliest' })
})

test('ISO-8601 times: with Z or an offset, fractions, a space for T, or a date alone (UTC midnight)', () => {
  assert.deepEqual(parseResetTarget('2026-11-25T10:00:00Z'), { kind: 'time', ms: Date.UTC(2026, 10, 25, 10) })
  assert.deepEqual(parseResetTarget('2026-11-25T10:00:00.250Z'), { kind: 'time', ms: Date.UTC(2026, 10, 25, 10, 0, 0, 250) })
  assert.deepEqual(parseResetTarget('2026-11-25T12:00+02:00'), { kind: 'time', ms: Date.UTC(2026, 10, 25, 10) })
  assert.deepEqual(parseResetTarget('2026-11-25 10:00:00z'), { kind: 'time', ms: Date.UTC(2026, 10, 25, 10) })
  assert.deepEqual(parseResetTarget('2026-11-25'), { kind: 'time', ms: Date.UTC(2026, 10, 25) })
  assert.deepEqual(parseResetTarget('2024-02-29'), { kind: 'time', ms: Date.UTC(2024, 1, 29) })
})

test('times that are not: no zone, impossible dates, other words', () => {
  refused('2026-11-25T10:00:00', /no time zone: add Z/)
  refused('2026-11-25 10:00', /no time zone/)
  refused('2026-02-30', /not a valid date or time/)
  refused('2026-13-01T00:00:00Z', /not a valid date or time/)
  refused('2026-01-01T25:00Z', /not a valid date or time/)
  refused('2025-02-29', /not a valid date or time/)
  refused('yesterday', /"yesterday" is not a target: use earliest, latest, an ISO-8601 time .* or a JSON object of positions/)
  refused('', /is not a target/)
  refused('1764064800000', /is not a target/)
})

test('a positions object: offsets as numbers or strings, exact past 2^53, -2/-1 as Spark, strings and null kept', () => {
  assert.deepEqual(parseResetTarget('{"orders/0": 120, "orders/1": 0}'), { kind: 'positions', positions: { 'orders/0': '120', 'orders/1': '0' } })
  assert.deepEqual(parseResetTarget('{"orders/0": "120", "orders/1": -2, "orders/2": -1}'), { kind: 'positions', positions: { 'orders/0': '120', 'orders/1': '-2', 'orders/2': '-1' } })
  assert.deepEqual(parseResetTarget('{"orders/0": 9007199254740993}'), { kind: 'positions', positions: { 'orders/0': '9007199254740993' } })
  assert.deepEqual(parseResetTarget(' {"file:a.ndjson": "done", "file:b.ndjson": null} '), { kind: 'positions', positions: { 'file:a.ndjson': 'done', 'file:b.ndjson': null } })
})

test('a bad positions object names the partition and the value', () => {
  refused('{"orders/0": 120,}', /not valid JSON/)
  refused('[1, 2]', /must be a JSON object/)
  refused('{}', /names no partition/)
  refused('{"": 1}', /a partition key is empty/)
  refused('{"orders/1": -5}', /at "orders\/1": -5 is not an offset \(0 or more; -2 is earliest, -1 latest\)/)
  refused('{"orders/1": 1.5}', /at "orders\/1": 1.5 is not a whole number/)
  refused('{"orders/1": 1e3}', /at "orders\/1": 1e3 is not a whole number/)
  refused('{"orders/0": 1, "orders/1": true}', /at "orders\/1": true is not a position \(an offset such as 120/)
  refused('{"orders/1": {"number": "1"}}', /at "orders\/1": \{"number":"1"\} is not a position/)
  refused('{"orders/1": [1]}', /at "orders\/1": \[1\] is not a position/)
  refused('{"orders/1": "  "}', /at "orders\/1": an empty string is not a position/)
})

test('describeTarget spells a target as --to takes it', () => {
  for (const v of ['earliest', 'latest', '2026-11-25T10:00:00.000Z', '{"orders/0":"120","file:x":null}']) assert.equal(describeTarget(parseResetTarget(v)), v)
})
