/** `sluice test --input`: NDJSON lines as values byte for byte, or record envelopes with metadata. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseInput } from './dry-run-input.ts'

const defaults = { topic: 'orders', withLines: true }

test('a line is the value as written; blank lines are skipped; defaults are fixed, never the clock', () => {
  const [a, b, c] = parseInput('{"id": 1}\n\n{broken\r\n[1]\n', 'auto', defaults, 'in.ndjson')
  assert.equal(a?.value?.toString(), '{"id": 1}')
  assert.equal(b?.value?.toString(), '{broken', 'a malformed line stays the bytes the decoder will refuse')
  assert.equal(c?.value?.toString(), '[1]')
  assert.deepEqual([a?.offset, b?.offset, c?.offset], ['0', '1', '2'])
  assert.deepEqual([a?.line, b?.line, c?.line], [1, 3, 4])
  assert.equal(a?.timestamp, 0)
  assert.equal(a?.topic, 'orders')
  assert.equal(a?.key, null)
})

test('an envelope gives key, value, headers, timestamp, topic, partition and offset', () => {
  const [r] = parseInput(
    JSON.stringify({ key: 'k1', value: { id: 1 }, headers: { trace: 'x', retry: ['1', '2'] }, timestamp: '2026-11-25T10:00:00Z', topic: 't', partition: 3, offset: '42' }),
    'auto',
    defaults,
    'in.ndjson',
  )
  assert.equal(r?.key?.toString(), 'k1')
  assert.equal(r?.value?.toString(), '{"id":1}')
  assert.deepEqual(r?.headers.map(([n, v]) => [n, v.toString()]), [['trace', 'x'], ['retry', '1'], ['retry', '2']])
  assert.equal(r?.timestamp, Date.parse('2026-11-25T10:00:00Z'))
  assert.deepEqual([r?.topic, r?.partition, r?.partitionNumber, r?.offset], ['t', 't/3', 3, '42'])
  // A string value is the bytes as written (to test malformed JSON); null is a tombstone.
  const [s, t] = parseInput('{"value": "{not json"}\n{"key": "1", "value": null}', 'auto', defaults, 'in.ndjson')
  assert.equal(s?.value?.toString(), '{not json')
  assert.equal(t?.value, null)
})

test('values and records formats; a bad envelope names its file and line', () => {
  // A payload that looks like an envelope is a value with --input-format values.
  const [v] = parseInput('{"key": "a", "value": 3}', 'values', defaults, 'in.ndjson')
  assert.equal(v?.value?.toString(), '{"key": "a", "value": 3}')
  // auto: an object with other members is a value.
  const [w] = parseInput('{"value": 3, "id": 1}', 'auto', defaults, 'in.ndjson')
  assert.equal(w?.value?.toString(), '{"value": 3, "id": 1}')
  assert.throws(() => parseInput('{"id": 1}', 'records', defaults, 'in.ndjson'), /CONFIG_UNREADABLE|in\.ndjson line 1: not a record envelope/)
  assert.throws(() => parseInput('{"value": 1, "partition": -1}', 'auto', defaults, 'in.ndjson'), /in\.ndjson line 1: partition must be a whole number/)
  assert.throws(() => parseInput('{"value": 1, "timestamp": "soon"}', 'auto', defaults, 'in.ndjson'), /timestamp must be/)
})
