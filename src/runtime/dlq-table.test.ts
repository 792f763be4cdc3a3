/**
 * Reading a PostgreSQL DLQ table (embedded PGlite here; test/ops/dlq.int.test.ts runs the same on a
 * server after a real run): filters, order, ids, the pipeline's own rows only, and every read in a
 * transaction the database itself holds read-only.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { BatchTracker, createTableSql, type PgDriver } from '../components/sinks/postgres/index.ts'
import { createPgliteDriver } from '../components/sinks/postgres/driver-pglite.ts'
import { dlqRow, dlqTableColumns } from '../reliability/dlq-record.ts'
import type { SourceRecord } from '../api/record.ts'
import type { PipelineDatabase } from './database.ts'
import { listTableDeadLetters, showTableDeadLetter } from './dlq-table.ts'

let driver: PgDriver
let db: PipelineDatabase
/** `transaction_read_only` as the database saw it at the end of every transaction the reader opened. */
const readOnly: string[] = []

const record = (offset: number, value: Buffer | null, headers: SourceRecord['headers'] = []): SourceRecord => ({
  partition: 'orders/0', topic: 'orders', partitionNumber: 0, offset: String(offset), key: Buffer.from(`k${offset}`), value, timestamp: 0, headers,
})

before(async () => {
  driver = createPgliteDriver(undefined)
  await driver.query(createTableSql('"public"."orders_dlq"', dlqTableColumns))
  const rows = [
    dlqRow({ code: 'RECORD_DECODE', reason: 'not JSON', pipelineId: 'p', batchId: 0, record: record(1, Buffer.from('{x')), failedAt: Date.parse('2026-11-25T10:00:00Z') }),
    dlqRow({ code: 'RECORD_SCHEMA', reason: 'id missing', pipelineId: 'p', batchId: 1, record: record(7, Buffer.from([0xff, 0x00]), [['h', Buffer.from([0xfe])], ['h', Buffer.from('two')]]), failedAt: Date.parse('2026-11-25T11:00:00Z') }),
    dlqRow({ code: 'RECORD_DECODE', reason: 'not JSON', pipelineId: 'p', batchId: 2, record: record(9, null), failedAt: Date.parse('2026-11-25T12:00:00Z') }),
    dlqRow({ code: 'RECORD_DECODE', reason: 'other', pipelineId: 'someone-else', batchId: 0, record: record(1, Buffer.from('{y')), failedAt: Date.parse('2026-11-25T10:00:00Z') }),
  ]
  const names = Object.keys(dlqTableColumns)
  for (const r of rows) {
    const headers = r.headers as Buffer
    await driver.query(`INSERT INTO orders_dlq (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map((n, i) => (n === 'headers' ? `$${i + 1}::jsonb` : `$${i + 1}`)).join(', ')})`, names.map((n) => (n === 'headers' ? headers.toString('utf8') : r[n])))
  }
  // The reader's own driver, with the database's view of each of its transactions recorded.
  const spied: PgDriver = {
    ...driver,
    kind: driver.kind,
    query: (sql, params) => driver.query(sql, params),
    close: () => driver.close(),
    transaction: (fn) =>
      driver.transaction(async (tx) => {
        const result = await fn(tx)
        readOnly.push(String((await tx.query<{ transaction_read_only: string }>('SHOW transaction_read_only')).rows[0]?.transaction_read_only))
        return result
      }),
  }
  db = { driver: spied, tracker: new BatchTracker(spied, 'public'), schema: 'public', display: 'memory', secrets: [], close: async () => {} }
})
after(async () => {
  await driver.close()
})

test('list: the pipeline\'s dead letters oldest first, the count by code, filters and --limit', async () => {
  const all = await listTableDeadLetters(db, 'p', 'orders_dlq', { limit: 10 })
  assert.equal(all.where, 'table public.orders_dlq')
  assert.deepEqual(all.entries.map((e) => e.id), ['orders/0@1#0', 'orders/0@7#1', 'orders/0@9#2'])
  assert.deepEqual(all.byCode, { RECORD_DECODE: 2, RECORD_SCHEMA: 1 })
  assert.equal(all.more, false)
  const some = await listTableDeadLetters(db, 'p', 'orders_dlq', { limit: 1, code: 'RECORD_DECODE', since: Date.parse('2026-11-25T10:00:00Z'), until: Date.parse('2026-11-25T12:00:00Z') })
  assert.deepEqual([some.entries.map((e) => e.id), some.byCode, some.more], [['orders/0@1#0'], { RECORD_DECODE: 1 }, false])
  const first = await listTableDeadLetters(db, 'p', 'orders_dlq', { limit: 2 })
  assert.deepEqual([first.entries.length, first.more], [2, true])
  assert.deepEqual(await listTableDeadLetters(db, 'p', 'no_such_table', { limit: 5 }), { where: 'table public.no_such_table', entries: [], more: false, byCode: {} })
  assert.ok(readOnly.length >= 3 && readOnly.every((v) => v === 'on'), `every read ran read-only: ${readOnly.join(',')}`)
})

test('show: one dead letter with its original bytes and repeated headers; an unknown or malformed id is null', async () => {
  const e = await showTableDeadLetter(db, 'p', 'orders_dlq', 'orders/0@7#1')
  assert.ok(e)
  assert.deepEqual([e.code, e.reason, e.failedAt, e.source], ['RECORD_SCHEMA', 'id missing', '2026-11-25T11:00:00.000Z', { topic: 'orders', partition: 0, offset: '7' }])
  assert.deepEqual([e.key, e.value], [Buffer.from('k7'), Buffer.from([0xff, 0x00])])
  assert.deepEqual(e.headers, [['h', Buffer.from([0xfe])], ['h', Buffer.from('two')]])
  assert.equal((await showTableDeadLetter(db, 'p', 'orders_dlq', 'orders/0@9#2'))?.value, null, 'a tombstone keeps its null value')
  assert.equal(await showTableDeadLetter(db, 'p', 'orders_dlq', 'orders/0@7#0'), null, 'another batch')
  assert.equal(await showTableDeadLetter(db, 'someone', 'orders_dlq', 'orders/0@1#0'), null, 'another pipeline')
  assert.equal(await showTableDeadLetter(db, 'p', 'orders_dlq', 'nonsense'), null)
  assert.ok(readOnly.every((v) => v === 'on'))
})
