/** Dead-letter ids, filters and the JSON form of bytes for `sluice dlq`. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type DeadLetterEntry, bytesJson, entryJson, matches, parseTableId, parseTopicId, tableEntryId, topicEntryId } from './dlq-entry.ts'

test('ids round-trip, whatever the topic (a file name) holds', () => {
  for (const topic of ['orders', 'a/b/c@d#e.ndjson']) {
    assert.deepEqual(parseTableId(tableEntryId(topic, 3, '9007199254740993', '12')), { topic, partition: 3, offset: '9007199254740993', batchId: '12' })
    assert.deepEqual(parseTopicId(topicEntryId(topic, 1, '42')), { topic, partition: 1, offset: 42n })
  }
  assert.equal(parseTableId('orders/0@1'), null, 'a Kafka id is not a table id')
  assert.equal(parseTopicId('orders/x@1'), null)
  assert.equal(parseTableId(''), null)
})

const entry: DeadLetterEntry = {
  id: 'orders/0@1#0',
  code: 'RECORD_SCHEMA',
  reason: 'r',
  pipelineId: 'p',
  batchId: '0',
  failedAt: '2026-11-25T10:00:00.000Z',
  source: { topic: 'orders', partition: 0, offset: '1' },
  key: null,
  value: Buffer.from([0xff, 0x41]),
  headers: [['h', Buffer.from('v')]],
}

test('filters: code, since inclusive, until exclusive', () => {
  const t = Date.parse(entry.failedAt)
  assert.ok(matches(entry, { limit: 1 }))
  assert.ok(matches(entry, { limit: 1, code: 'RECORD_SCHEMA', since: t, until: t + 1 }))
  assert.ok(!matches(entry, { limit: 1, code: 'RECORD_DECODE' }))
  assert.ok(!matches(entry, { limit: 1, since: t + 1 }))
  assert.ok(!matches(entry, { limit: 1, until: t }))
})

test('bytes: base64 always, text only when valid UTF-8; null stays null', () => {
  assert.deepEqual(bytesJson(Buffer.from('héllo')), { base64: Buffer.from('héllo').toString('base64'), text: 'héllo' })
  assert.deepEqual(bytesJson(Buffer.from([0xff, 0x41])), { base64: '/0E=' })
  assert.equal(bytesJson(null), null)
  const json = entryJson(entry)
  assert.deepEqual([json.key, json.value, json.headers], [null, { base64: '/0E=' }, [{ name: 'h', base64: 'dg==', text: 'v' }]])
})
