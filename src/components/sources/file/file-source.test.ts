import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, readdir, rename, rm, utimes, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { nullLogger, type ComponentContext } from '../../../api/component.ts'
import { advance, type Position } from '../../../api/position.ts'
import type { SourceRecord } from '../../../api/record.ts'
import { isSluiceError } from '../../../errors.ts'
import { FileSource, type FileSourceConfig, type FileSourceOptions } from './file-source.ts'

const signal = new AbortController().signal
const PAST = new Date('2026-01-01T00:00:00Z')

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{ base: string; dir: string; ctx: ComponentContext }> {
  const base = await mkdtemp(join(tmpdir(), 'sluice-file-'))
  t.after(() => rm(base, { recursive: true, force: true }))
  const dir = join(base, 'in')
  await mkdir(dir)
  return { base, dir, ctx: { pipelineId: 't', baseDir: base, logger: nullLogger, env: {} } }
}

function config(overrides: Partial<FileSourceConfig> = {}): FileSourceConfig {
  return { sourceType: 'file', path: 'in', format: 'json', order: 'name', cleanSource: 'off', csv: { header: true, delimiter: ',' }, ...overrides }
}

/** Writes a file whose mtime is long past, i.e. complete. */
async function put(dir: string, name: string, text: string, mtime: Date = PAST): Promise<void> {
  await writeFile(join(dir, name), text)
  await utimes(join(dir, name), mtime, mtime)
}

async function readAll(source: FileSource, from: Position, to: Position): Promise<SourceRecord[]> {
  const out: SourceRecord[] = []
  for await (const chunk of source.read(from, to, signal)) out.push(...chunk)
  return out
}

function source(ctx: ComponentContext, overrides: Partial<FileSourceConfig> = {}, options: FileSourceOptions = {}): FileSource {
  return new FileSource(config(overrides), ctx, options)
}

test('plans files in name order, maxFiles at a time, and reads NDJSON lines as raw values', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'b.ndjson', '{"n":3}\n')
  await put(dir, 'a.ndjson', '{"n":1}\n\n{"n":2}\r\n')
  const s = source(ctx)
  await s.open()
  assert.deepEqual(await s.initialPosition(), {})
  const first = await s.plan({}, { maxFiles: 1 }, signal)
  assert.deepEqual(first, { 'file:a.ndjson': 'done' })
  const records = await readAll(s, {}, first!)
  assert.deepEqual(
    records.map((r) => [r.partition, r.topic, r.partitionNumber, r.offset, r.value?.toString(), r.key, r.timestamp]),
    [
      ['file:a.ndjson', 'a.ndjson', 0, '1', '{"n":1}', null, PAST.getTime()],
      ['file:a.ndjson', 'a.ndjson', 0, '3', '{"n":2}', null, PAST.getTime()],
    ],
  )
  const pos = advance({}, first!)
  assert.deepEqual(await s.plan(pos, {}, signal), { 'file:b.ndjson': 'done' })
  assert.equal(await s.plan(advance(pos, { 'file:b.ndjson': 'done' }), {}, signal), null)
})

test('maxBytes splits the eligible files by size, at plan time, and never plans an empty batch', async (t) => {
  const { dir, ctx } = await setup(t)
  const line = (n: number): string => `${JSON.stringify({ n, pad: 'x'.repeat(83) })}\n` // 100 bytes
  await put(dir, 'a.json', line(1).repeat(3)) // 300 B
  await put(dir, 'b.json', line(2).repeat(5)) // 500 B
  await put(dir, 'c.json', line(3).repeat(12)) // 1,200 B: alone above the cap
  await put(dir, 'd.json', line(4)) // 100 B
  const s = source(ctx)
  const batches: string[][] = []
  let pos: Position = {}
  for (let to = await s.plan(pos, { maxBytes: 800 }, signal); to !== null; to = await s.plan(pos, { maxBytes: 800 }, signal)) {
    batches.push(Object.keys(to).filter((k) => pos[k] === undefined))
    // Planning again from the same start gives the same batch: a re-planned batch is the same batch.
    assert.deepEqual(await s.plan(pos, { maxBytes: 800 }, signal), to)
    pos = advance(pos, to)
  }
  assert.deepEqual(batches, [['file:a.json', 'file:b.json'], ['file:c.json'], ['file:d.json']])
  // maxFiles and maxBytes together: whichever is reached first.
  assert.deepEqual(await s.plan({}, { maxBytes: 800, maxFiles: 1 }, signal), { 'file:a.json': 'done' })
})

test('re-reading a range gives the same records; files done in `from` are not read', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.json', '{"a":1}\n{"a":2}\n')
  await put(dir, 'b.json', '{"b":1}\n')
  const s = source(ctx)
  const to = { 'file:a.json': 'done', 'file:b.json': 'done' }
  const once = await readAll(s, {}, to)
  const twice = await readAll(s, {}, to)
  assert.deepEqual(twice, once)
  assert.equal(once.length, 3)
  const onlyB = await readAll(s, { 'file:a.json': 'done' }, to)
  assert.deepEqual(onlyB.map((r) => r.topic), ['b.json'])
})

test('mtime order, then name; ignored names and the glob pattern', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'z.ndjson', '{}\n', new Date('2025-01-01T00:00:00Z'))
  await put(dir, 'a.ndjson', '{}\n', new Date('2025-06-01T00:00:00Z'))
  await put(dir, 'b.ndjson', '{}\n', new Date('2025-06-01T00:00:00Z'))
  for (const name of ['.hidden.ndjson', '_tmp.ndjson', 'x.ndjson.tmp', 'y.ndjson.partial', 'notes.txt']) await put(dir, name, '{}\n')
  await mkdir(join(dir, 'sub.ndjson'))
  const s = source(ctx, { order: 'mtime', pattern: '*.ndjson' })
  assert.deepEqual(Object.keys((await s.plan({}, {}, signal))!), ['file:z.ndjson', 'file:a.ndjson', 'file:b.ndjson'])
})

test('a file still being written is not read until it has been quiet for stableMs', async (t) => {
  const { dir, ctx } = await setup(t)
  const s = source(ctx, { stableMs: 300 })
  const path = join(dir, 'growing.ndjson')
  let writing = true
  const writer = (async () => {
    for (let i = 1; i <= 12; i++) {
      await appendFile(path, `{"i":${i}}\n`)
      await sleep(50)
    }
    writing = false
  })()
  let planned: Position | null = null
  while (planned === null) {
    const stillWriting: boolean = writing
    planned = await s.plan({}, {}, signal)
    if (planned !== null) assert.equal(stillWriting, false, 'planned a file that was still being written')
    await sleep(40)
  }
  await writer
  const records = await readAll(s, {}, planned)
  assert.equal(records.length, 12)
})

test('a file renamed into place from an ignored name is picked up; the temp name never is', async (t) => {
  const { dir, ctx } = await setup(t)
  const s = source(ctx, { stableMs: 1000 }, { now: () => Date.now() + 5000 })
  await writeFile(join(dir, 'batch-1.ndjson.tmp'), '{"x":1}\n')
  assert.equal(await s.plan({}, {}, signal), null)
  await rename(join(dir, 'batch-1.ndjson.tmp'), join(dir, 'batch-1.ndjson'))
  assert.deepEqual(await s.plan({}, {}, signal), { 'file:batch-1.ndjson': 'done' })
})

test('files arriving between plans are picked up by later plans, none twice, none lost', async (t) => {
  const { dir, ctx } = await setup(t)
  const s = source(ctx, { stableMs: 0 })
  let pos: Position = {}
  const seen: string[] = []
  for (let round = 0; round < 5; round++) {
    await put(dir, `f${round}-1.ndjson`, `{"r":${round}}\n`)
    await put(dir, `f${round}-2.ndjson`, `{"r":${round}}\n`)
    const to = await s.plan(pos, { maxFiles: 3 }, signal)
    assert.ok(to)
    for (const r of await readAll(s, pos, to)) seen.push(r.topic)
    pos = advance(pos, to)
  }
  for (let to = await s.plan(pos, { maxFiles: 3 }, signal); to !== null; to = await s.plan(pos, { maxFiles: 3 }, signal)) {
    for (const r of await readAll(s, pos, to)) seen.push(r.topic)
    pos = advance(pos, to)
  }
  assert.equal(seen.length, 10)
  assert.equal(new Set(seen).size, 10)
})

test('CSV: header, quoting, custom delimiter, offsets are data row numbers', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.csv', 'id;name;note\r\n1;"Smith; J";"said ""hi"""\n\n2;"two\nlines";\n3;x;""\n')
  const s = source(ctx, { format: 'csv', csv: { header: true, delimiter: ';' } })
  const records = await readAll(s, {}, { 'file:a.csv': 'done' })
  assert.deepEqual(
    records.map((r) => [r.offset, r.line, r.fields]),
    [
      ['1', 2, { id: '1', name: 'Smith; J', note: 'said "hi"' }],
      ['3', 4, { id: '2', name: 'two\nlines', note: null }],
      ['4', 6, { id: '3', name: 'x', note: '' }],
    ],
  )
  assert.equal(records[0]?.value?.toString(), '1;"Smith; J";"said ""hi"""')
})

test('CSV without header names columns _c0, _c1, ...', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.csv', 'a,b\nc,d\n')
  const s = source(ctx, { format: 'csv', csv: { header: false, delimiter: ',' } })
  const records = await readAll(s, {}, { 'file:a.csv': 'done' })
  assert.deepEqual(records.map((r) => [r.offset, r.fields]), [
    ['1', { _c0: 'a', _c1: 'b' }],
    ['2', { _c0: 'c', _c1: 'd' }],
  ])
})

test('CSV: a bad record is a dead letter with file and line, the records after it are read', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.csv', 'id,name\n1,5" screen\n2,ok\n3,a,b\n4\n5,"open\n6,"x""y"\n7,"abc"def\n8,last\n')
  const s = source(ctx, { format: 'csv' })
  const records = await readAll(s, {}, { 'file:a.csv': 'done' })
  assert.deepEqual(
    records.map((r) => [r.offset, r.line, r.fields ?? null, r.decodeError ?? null, r.value?.toString()]),
    [
      ['1', 2, null, 'a.csv line 2: not valid CSV: stray quote in unquoted field 2 (a field with quotes must be quoted as a whole, inner quotes doubled)', '1,5" screen'],
      ['2', 3, { id: '2', name: 'ok' }, null, '2,ok'],
      ['3', 4, null, 'a.csv line 4: too many fields: 3, the header has 2', '3,a,b'],
      ['4', 5, null, 'a.csv line 5: too few fields: 1, the header has 2', '4'],
      ['5', 6, null, 'a.csv line 6: not valid CSV: quoted field is not closed before the end of the file', '5,"open'],
      ['6', 7, { id: '6', name: 'x"y' }, null, '6,"x""y"'],
      ['7', 8, null, 'a.csv line 8: not valid CSV: unexpected "d" after the closing quote of field 2 (expected the delimiter or the end of the record)', '7,"abc"def'],
      ['8', 9, { id: '8', name: 'last' }, null, '8,last'],
    ],
  )
})

test('CSV: without a header the first record sets the field count; a broken header dead-letters the file', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.csv', 'a,b\nc\nd,e,f\ng,h\n')
  await put(dir, 'b.csv', 'id,"name\n1,x\n')
  const plain = await readAll(source(ctx, { format: 'csv', csv: { header: false, delimiter: ',' } }), {}, { 'file:a.csv': 'done' })
  assert.deepEqual(plain.map((r) => [r.offset, r.fields ?? r.decodeError]), [
    ['1', { _c0: 'a', _c1: 'b' }],
    ['2', 'a.csv line 2: too few fields: 1, the first record has 2'],
    ['3', 'a.csv line 3: too many fields: 3, the first record has 2'],
    ['4', { _c0: 'g', _c1: 'h' }],
  ])
  const broken = await readAll(source(ctx, { format: 'csv' }), {}, { 'file:b.csv': 'done' })
  assert.deepEqual(broken.map((r) => [r.offset, r.line, r.fields, r.decodeError]), [
    ['0', 1, undefined, 'b.csv line 1: the CSV header is not valid CSV: quoted field is not closed before the end of the file'],
    ['1', 2, undefined, 'b.csv line 2: not read because the CSV header is not valid CSV'],
  ])
  // A header naming a column twice would keep one value of the two in every record: dead letters instead.
  await put(dir, 'c.csv', 'id,name,id\n1,x,2\n')
  const twice = await readAll(source(ctx, { format: 'csv' }), {}, { 'file:c.csv': 'done' })
  assert.deepEqual(twice.map((r) => [r.offset, r.line, r.fields, r.decodeError]), [
    ['0', 1, undefined, 'c.csv line 1: the CSV header names column "id" twice (fields 1 and 3)'],
    ['1', 2, undefined, 'c.csv line 2: not read because the CSV header names a column twice'],
  ])
})

test('a large file is streamed in chunks', async (t) => {
  const { dir, ctx } = await setup(t)
  const n = 120_000
  const lines: string[] = []
  for (let i = 1; i <= n; i++) lines.push(`{"i":${i},"pad":"${'x'.repeat(40)}"}`)
  await put(dir, 'big.ndjson', lines.join('\n') + '\n')
  const s = source(ctx)
  let count = 0
  let chunks = 0
  let last = 0
  for await (const chunk of s.read({}, { 'file:big.ndjson': 'done' }, signal)) {
    chunks++
    assert.ok(chunk.length <= 5000)
    for (const r of chunk) {
      count++
      assert.equal(Number(r.offset), last + 1)
      last = Number(r.offset)
    }
  }
  assert.equal(count, n)
  assert.equal(chunks, Math.ceil(n / 5000))
})

test('cleanSource archive moves committed files keeping their names; a replay still finds them', async (t) => {
  const { base, dir, ctx } = await setup(t)
  await put(dir, 'a.ndjson', '{"a":1}\n')
  await put(dir, 'b.ndjson', '{"b":1}\n')
  const s = source(ctx, { cleanSource: 'archive', sourceArchiveDir: 'archive/in' })
  const to = (await s.plan({}, { maxFiles: 1 }, signal))!
  const before = await readAll(s, {}, to)
  await s.committed(to)
  assert.deepEqual(await readdir(dir), ['b.ndjson'])
  assert.deepEqual(await readdir(join(base, 'archive/in')), ['a.ndjson'])
  // A batch re-run after a crash that happened after the cleanup reads the archived file.
  assert.deepEqual(await readAll(s, {}, to), before)
})

test('cleanSource delete removes committed files only; a missing planned file is data loss', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.ndjson', '{"a":1}\n')
  await put(dir, 'b.ndjson', '{"b":1}\n')
  const s = source(ctx, { cleanSource: 'delete' })
  await s.committed({ 'file:a.ndjson': 'done' })
  assert.deepEqual(await readdir(dir), ['b.ndjson'])
  await assert.rejects(readAll(s, {}, { 'file:a.ndjson': 'done' }), (err) => isSluiceError(err, 'SOURCE_DATA_LOSS'))
})

test('a missing folder is SOURCE_UNAVAILABLE (retryable); archive without a folder is a config error', async (t) => {
  const { ctx } = await setup(t)
  const s = source(ctx, { path: 'nope' })
  await assert.rejects(s.open(), (err) => isSluiceError(err, 'SOURCE_UNAVAILABLE') && err.retryable)
  await assert.rejects(s.plan({}, {}, signal), (err) => isSluiceError(err, 'SOURCE_UNAVAILABLE'))
  assert.throws(() => source(ctx, { cleanSource: 'archive' }), (err) => isSluiceError(err, 'CONFIG_INVALID'))
})

test('latest lists every eligible file', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.ndjson', '{}\n')
  await writeFile(join(dir, 'fresh.ndjson'), '{}\n')
  const s = source(ctx)
  assert.deepEqual(await s.latest(), { 'file:a.ndjson': 'done' })
})

test('every record carries the 1-based line where it starts (NDJSON and CSV), for _metadata.line', async (t) => {
  const { dir, ctx } = await setup(t)
  await put(dir, 'a.ndjson', '{"id":1}\n\n{"id":2}\n')
  await put(dir, 'b.csv', 'id,note\n1,"two\nlines"\n2,x\n')
  const json = await readAll(source(ctx), {}, { 'file:a.ndjson': 'done' })
  assert.deepEqual(json.map((r) => r.line), [1, 3])
  const csv = await readAll(source(ctx, { format: 'csv', csv: { header: true, delimiter: ',' } }), {}, { 'file:b.csv': 'done' })
  assert.deepEqual(csv.map((r) => [r.offset, r.line]), [['1', 2], ['2', 4]])
})
