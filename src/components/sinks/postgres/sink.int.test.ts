// The PostgreSQL sink on a real server: write modes, bad-row isolation, fencing, COPY encoding,
// connection loss, credentials and load schemas. One schema per test.
import { afterEach, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import type pg from 'pg'
import type { RowValues } from '../../../api/record.ts'
import type { RejectHandler } from './testing.ts'
import { isSluiceError } from '../../../errors.ts'
import type { PostgresLoadConfig } from './config.ts'
import type { PostgresSinkOptions } from './index.ts'
import { TestSink, adminClient, batch, freshSchema, pgLoadConfig, testContext } from './testing.ts'

let admin: pg.Client
let schema: string
const sinks: TestSink[] = []

beforeEach(async () => {
  admin = await adminClient()
  schema = await freshSchema(admin, 'sink')
  await admin.query(`SET search_path TO "${schema}"`)
})

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close()
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
  await admin.end()
})

async function open(overrides: Partial<PostgresLoadConfig> = {}, options?: PostgresSinkOptions): Promise<TestSink> {
  const sink = new TestSink(pgLoadConfig(schema, overrides), testContext(), options)
  sinks.push(sink)
  await sink.open(AbortSignal.timeout(10_000))
  return sink
}

async function rows(sql: string): Promise<RowValues[]> {
  return (await admin.query(sql)).rows
}

const keepRejected: RejectHandler = () => []

test("the seed's retry test: the same batch written twice leaves 2 rows, not 4", async () => {
  await admin.query('CREATE TABLE events (name text, score int)')
  const sink = await open()
  const b = batch(1, [{ name: 'user1', score: 100 }, { name: 'user2', score: 200 }])
  assert.equal((await sink.write(b)).status, 'committed')
  assert.equal((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n, 2)
  assert.equal((await sink.write(b)).status, 'duplicate')
  assert.equal((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n, 2)
})

test("the seed's recovery scenario: batches 1-3 done, 4 fails mid-write, the re-run skips 3 and writes 4", async () => {
  await admin.query('CREATE TABLE events (id int primary key, v varchar(5) not null)')
  const sink = await open()
  for (const n of [1, 2, 3]) await sink.write(batch(n, [{ id: n, v: 'ok' }]))
  await assert.rejects(sink.write(batch(4, [{ id: 4, v: 'ok' }, { id: 5, v: null }])), (e: unknown) => isSluiceError(e, 'RECORD_COLUMN'))
  assert.equal((await sink.write(batch(3, [{ id: 3, v: 'ok' }]))).status, 'duplicate')
  assert.equal((await sink.write(batch(4, [{ id: 4, v: 'ok' }, { id: 5, v: 'fixed' }]))).status, 'committed')
  assert.deepEqual((await rows('SELECT id FROM events ORDER BY id')).map((r) => r.id), [1, 2, 3, 4, 5])
  assert.deepEqual((await rows('SELECT batch_id::int AS b FROM batch_tracker ORDER BY 1')).map((r) => r.b), [1, 2, 3, 4])
})

test('append maps fields by name: exact, then case-insensitive; missing -> NULL or default; extra ignored', async () => {
  await admin.query(`CREATE TABLE events (id int, "userName" text, note text, created_at timestamptz NOT NULL DEFAULT '2020-01-01Z', serial_no serial)`)
  const sink = await open()
  await sink.write(batch(1, [{ id: 1, USERNAME: 'a', extra: 'ignored' }, { id: 2, userName: 'b', note: 'n' }]))
  const r = await rows(`SELECT id, "userName", note, created_at = '2020-01-01Z' AS defaulted, serial_no FROM events ORDER BY id`)
  assert.deepEqual(r, [
    { id: 1, userName: 'a', note: null, defaulted: true, serial_no: 1 },
    { id: 2, userName: 'b', note: 'n', defaulted: true, serial_no: 2 },
  ])
})

test('overwrite replaces the contents atomically: readers never see an empty or partial table', async () => {
  await admin.query('CREATE TABLE events (id int, v text)')
  await admin.query(`INSERT INTO events SELECT g, 'old' FROM generate_series(1, 1000) g`)
  const sink = await open({ writeMode: 'overwrite' })
  const big = Array.from({ length: 200_000 }, (_, i) => ({ id: i, v: 'new' }))
  let done = false
  const seen = new Set<number>()
  const writing = sink.write(batch(1, big)).finally(() => {
    done = true
  })
  while (!done) {
    seen.add((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n as number)
    await new Promise((r) => setTimeout(r, 5))
  }
  await writing
  seen.add((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n as number)
  assert.deepEqual([...seen].filter((n) => n !== 1000 && n !== 200_000), [])
  assert.ok(seen.has(200_000))
  // A failing overwrite leaves the old contents.
  await assert.rejects(sink.write(batch(2, [{ id: 'not a number' }])), (e: unknown) => isSluiceError(e, 'RECORD_COLUMN'))
  assert.equal((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n, 200_000)
  await sink.write(batch(2, [{ id: 1, v: 'newest' }]))
  assert.deepEqual(await rows('SELECT id, v FROM events'), [{ id: 1, v: 'newest' }])
})

test('upsert: in-batch duplicates resolve to the last record; tombstones delete by key', async () => {
  await admin.query('CREATE TABLE events (tenant text, id int, v text, n int DEFAULT 7, PRIMARY KEY (tenant, id))')
  const sink = await open({ writeMode: 'upsert', upsertKeys: ['tenant', 'id'], deleteOnTombstone: true })
  await sink.write(batch(1, [{ tenant: 'a', id: 1, v: 'x' }, { tenant: 'a', id: 2, v: 'y' }, { tenant: 'b', id: 1, v: 'z' }, { tenant: 'a', id: 1, v: 'x2' }]))
  await sink.write(batch(2, [{ tenant: 'a', id: 2, v: 'y2' }, { tenant: 'a', id: 2, v: 'y3' }], { deletes: [{ tenant: 'b', id: 1 }] }))
  assert.deepEqual(await rows('SELECT tenant, id, v, n FROM events ORDER BY tenant, id'), [
    { tenant: 'a', id: 1, v: 'x2', n: 7 },
    { tenant: 'a', id: 2, v: 'y3', n: 7 },
  ])
})

test('bad rows are isolated by splitting: too long, NOT NULL, CHECK, FK, unique, bad syntax', async () => {
  await admin.query('CREATE TABLE parents (id int primary key)')
  await admin.query('INSERT INTO parents VALUES (1)')
  await admin.query(`CREATE TABLE events (id int primary key, code varchar(4) not null, amount int check (amount >= 0), parent int references parents(id))`)
  const sink = await open({ connectionParams: { batchsize: 7 } })
  const values: RowValues[] = Array.from({ length: 100 }, (_, i) => ({ id: i, code: 'ok', amount: i, parent: 1 }))
  values[3] = { id: 3, code: 'too-long', amount: 1 }
  values[10] = { id: 10, code: null }
  values[11] = { id: 11, code: 'c', amount: -5 }
  values[50] = { id: 50, code: 'fk', parent: 99 }
  values[60] = { id: 1, code: 'dup' }
  values[99] = { id: 99, code: 'num', amount: 'abc' }
  const r = await sink.write(batch(1, values), keepRejected)
  assert.equal(r.written, 94)
  const byOffset = Object.fromEntries(r.rejected.map((x) => [x.row.source.offset, x.error]))
  assert.deepEqual(Object.keys(byOffset).sort((a, b) => Number(a) - Number(b)), ['3', '10', '11', '50', '60', '99'])
  for (const e of Object.values(byOffset)) assert.ok(isSluiceError(e, 'RECORD_COLUMN') && !e.retryable)
  assert.match(byOffset['3']?.message ?? '', /too long.*column code/)
  assert.equal(byOffset['3']?.details.column, 'code')
  assert.match(byOffset['10']?.message ?? '', /"code".*not-null/)
  assert.match(byOffset['11']?.message ?? '', /events_amount_check/)
  assert.equal(byOffset['50']?.details.constraint, 'events_parent_fkey')
  assert.equal(byOffset['60']?.details.constraint, 'events_pkey')
  assert.equal(byOffset['99']?.details.column, 'amount')
  assert.doesNotMatch(byOffset['99']?.message ?? '', /abc/)
  assert.equal((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n, 94)
})

test('fencing: a batch whose start is not the stored position fails with SINK_FENCED', async () => {
  await admin.query('CREATE TABLE events (id int)')
  const sink = await open()
  await sink.write(batch(1, [{ id: 1 }]))
  const other = batch(2, [{ id: 2 }], { start: 0 })
  await assert.rejects(sink.write(other), (e: unknown) => isSluiceError(e, 'SINK_FENCED') && !e.retryable && JSON.stringify(e.details.partitions) === '["t/0"]')
  // Two workers racing from the same start: exactly one wins.
  const a = await open()
  const results = await Promise.allSettled([sink.write(batch(2, [{ id: 2 }], { pipelineId: 'test-pipeline' })), a.write({ ...batch(2, [{ id: 3 }]), batchId: 3 })])
  assert.deepEqual(results.map((x) => x.status).sort(), ['fulfilled', 'rejected'])
  assert.equal((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n, 2)
})

test('COPY encoding round-trips every kind of value', async () => {
  await admin.query(`CREATE TABLE events (k int, t text, j jsonb, js json, ts timestamptz, d date, n numeric, f float8, b boolean, by bytea, arr text[], big bigint)`)
  const sink = await open()
  const nasty = 'tab\there\nnew\rcr\\back\\\\slash \\N é 漢字 🦀 "q" \'s\''
  const obj = { s: nasty, nested: [1, null, { x: 'a\nb' }], u: '\u2028' }
  const input: RowValues[] = [
    { k: 1, t: nasty, j: obj, js: [1, 'two'], ts: new Date('2026-01-02T03:04:05.678Z'), d: '2026-01-02', n: '12345678901234567890.123', f: 1.5e-7, b: true, by: Buffer.from([0, 1, 0x5c, 0x0a, 0xff]), arr: ['a', 'b,c', 'd"e', null, 'f\\g', ''], big: 9007199254740993n },
    { k: 2, t: '', j: 'just a string', js: null, ts: 1767323045678, d: new Date('2026-01-02T00:00:00Z'), n: -0.5, f: Number.NaN, b: false, by: 'text bytes', arr: [], big: '-9223372036854775808' },
    // The text 'Infinity' is PostgreSQL's own spelling and lands; a JS Infinity is what JSON.parse makes
    // of an overflowing literal (1e400), so the sink refuses it (column-fit.ts, tested below).
    { k: 3, t: '\\N', j: { n: 1.25, b: false, z: null }, ts: '2026-01-02T03:04:05+02:00', f: 'Infinity' },
  ]
  await sink.write(batch(1, input))
  const out = await rows(`SELECT k, t, j, js::text AS js, ts, d::text AS d, n::text AS n, f, b, encode(by, 'hex') AS by, arr, big::text AS big FROM events ORDER BY k`)
  assert.deepEqual(out[0], { k: 1, t: nasty, j: obj, js: '[1,"two"]', ts: new Date('2026-01-02T03:04:05.678Z'), d: '2026-01-02', n: '12345678901234567890.123', f: 1.5e-7, b: true, by: '00015c0aff', arr: ['a', 'b,c', 'd"e', null, 'f\\g', ''], big: '9007199254740993' })
  assert.deepEqual(out[1], { k: 2, t: '', j: 'just a string', js: null, ts: new Date(1767323045678), d: '2026-01-02', n: '-0.5', f: Number.NaN, b: false, by: Buffer.from('text bytes').toString('hex'), arr: [], big: '-9223372036854775808' })
  assert.deepEqual(out[2], { k: 3, t: '\\N', j: { n: 1.25, b: false, z: null }, js: null, ts: new Date('2026-01-02T01:04:05Z'), d: null, n: null, f: Number.POSITIVE_INFINITY, b: null, by: null, arr: null, big: null })
  await assert.rejects(sink.write(batch(2, [{ k: 4, f: Number.POSITIVE_INFINITY }])), (e: unknown) => isSluiceError(e) && e.code === 'RECORD_COLUMN' && /out of range for double precision/.test(e.message))
})

test('a connection killed mid-COPY (pg_terminate_backend) is a retryable error and commits nothing', async () => {
  await admin.query('CREATE TABLE events (id int, v text)')
  const sink = await open()
  const big = Array.from({ length: 1_000_000 }, (_, i) => ({ id: i, v: 'some text to make the copy last a little' }))
  // The killer runs in the server, not in this process: the write keeps this event loop busy
  // encoding, and a poll from here could miss the COPY altogether on a slow machine (it did in CI).
  const killer = admin.query(`DO $$
    DECLARE target int;
    BEGIN
      FOR i IN 1..4000 LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT pid INTO target FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY "${schema}".%' LIMIT 1;
        IF target IS NOT NULL THEN
          PERFORM pg_terminate_backend(target);
          RETURN;
        END IF;
        PERFORM pg_sleep(0.005);
      END LOOP;
      RAISE EXCEPTION 'the COPY was never seen active';
    END $$`)
  const writing = sink.write(batch(1, big)).then(
    () => null,
    (e: unknown) => e,
  )
  await killer // rejects when the COPY was not seen and terminated
  const err = await writing
  assert.ok(isSluiceError(err) && err.retryable && err.code === 'SINK_UNAVAILABLE', String(err))
  assert.equal((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n, 0)
  assert.equal((await rows('SELECT count(*)::int AS n FROM batch_tracker'))[0]?.n, 0)
  // The broken connection was discarded: the retry of the same batch commits.
  const retry = await sink.write(batch(1, big.slice(0, 10)))
  assert.equal(retry.status, 'committed')
  assert.equal((await rows('SELECT count(*)::int AS n FROM events'))[0]?.n, 10)
})

test('credentials come from the resolver; errors never show the password', async () => {
  const secret = 'sup3r-s3cret-pw'
  const sink = new TestSink(
    pgLoadConfig(schema, { credentialId: 'db', connectionParams: { host: '127.0.0.1', port: 1, database: 'test' } }),
    testContext(),
    { resolveCredential: async (id) => (id === 'db' ? { user: 'postgres', password: secret } : {}) },
  )
  await assert.rejects(sink.open(AbortSignal.timeout(10_000)), (e: unknown) => isSluiceError(e, 'SINK_UNAVAILABLE') && e.retryable && !JSON.stringify(e.toJSON()).includes(secret) && !e.message.includes(secret))
  const url = `postgres://postgres:${secret}@127.0.0.1:1/test`
  const byUrl = new TestSink({ ...pgLoadConfig(schema), connectionParams: { url } }, testContext())
  await assert.rejects(byUrl.open(AbortSignal.timeout(10_000)), (e: unknown) => isSluiceError(e) && !e.message.includes(secret))
  await assert.rejects(
    new TestSink(pgLoadConfig(schema, { credentialId: 'db' }), testContext()).open(AbortSignal.timeout(1000)),
    (e: unknown) => isSluiceError(e, 'CREDENTIAL_MISSING'),
  )
})

test('a load schema creates the table when absent, and upsert keys default to its primary key', async () => {
  const loadSchema = { columns: { id: 'bigint', name: 'varchar(10) NOT NULL', at: 'timestamptz' }, primaryKey: ['id'] }
  const sink = await open({ table: 'created', writeMode: 'upsert' }, { loadSchema })
  await sink.write(batch(1, [{ id: 1, name: 'a', at: 0, ignored: true }, { id: 1, name: 'b', at: 1000 }]))
  assert.deepEqual(await rows('SELECT id::int AS id, name, at FROM created'), [{ id: 1, name: 'b', at: new Date(1000) }])
  const missing = await open({ table: 'nope' })
  await assert.rejects(missing.write(batch(1, [{ id: 1 }], { pipelineId: 'p2' })), (e: unknown) => isSluiceError(e, 'SINK_SCHEMA') && !e.retryable)
})
