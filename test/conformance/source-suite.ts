/**
 * The behaviour every Source must show, as a reusable node:test suite. A source's integration
 * test calls `sourceConformance(name, makeFixture)`; each test gets a fresh fixture (an empty
 * source over its own topic, folder, ...) and appends records through it.
 *
 * What it checks: plan() is null when there is nothing; read(from, to) yields exactly the planned
 * records, in order within each partition; reading a range twice gives identical records; limits
 * are respected and the batches of a backlog cover it exactly, with no loss and no duplicate;
 * data appended after a plan is not in that batch but in the next.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Position } from '../../src/api/position.ts'
import { advance } from '../../src/api/position.ts'
import type { SourceRecord } from '../../src/api/record.ts'
import type { ReadLimits, Source } from '../../src/api/source.ts'

/** A source under test plus a way to add data to it. */
export interface SourceFixture {
  readonly source: Source
  /** Appends records with these values (UTF-8), spread over partitions as the source likes; resolves once a plan can see them. */
  append(values: readonly string[]): Promise<void>
  /** The value a record carries (default: `value` as UTF-8). */
  textOf?(record: SourceRecord): string
  /** Releases everything (the suite closes the source first). */
  close(): Promise<void>
}

/** A record reduced to what must be identical on a re-read. */
export function recordIdentity(r: SourceRecord): string {
  return JSON.stringify([
    r.partition,
    r.topic,
    r.partitionNumber,
    r.offset,
    r.key?.toString('base64') ?? null,
    r.value?.toString('base64') ?? null,
    r.timestamp,
    r.headers.map(([k, v]) => [k, v.toString('base64')]),
  ])
}

/** Collects every record of read(from, to). */
export async function readAll(source: Source, from: Position, to: Position, signal = new AbortController().signal): Promise<SourceRecord[]> {
  const out: SourceRecord[] = []
  for await (const chunk of source.read(from, to, signal)) {
    assert.ok(Array.isArray(chunk), 'read() yields arrays of records')
    for (const r of chunk) out.push(r)
  }
  return out
}

/** Offsets within each partition strictly increase (offsets are decimal strings). */
export function assertPartitionOrder(records: readonly SourceRecord[]): void {
  const last = new Map<string, bigint>()
  for (const r of records) {
    assert.match(r.offset, /^\d+$/, `offset of ${r.partition} is a decimal string`)
    const o = BigInt(r.offset)
    const prev = last.get(r.partition)
    if (prev !== undefined) assert.ok(o > prev, `${r.partition}: offset ${o} follows ${prev}`)
    last.set(r.partition, o)
  }
}

const unique = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}-${Math.random().toString(36).slice(2, 8)}`)

/** Registers the conformance tests for one source. */
export function sourceConformance(name: string, makeFixture: () => Promise<SourceFixture>): void {
  const signal = new AbortController().signal

  async function withFixture(fn: (f: SourceFixture, start: Position) => Promise<void>): Promise<void> {
    const f = await makeFixture()
    try {
      await f.source.open(signal)
      const start = await f.source.initialPosition(signal)
      await fn(f, start)
    } finally {
      await f.source.close()
      await f.close()
    }
  }
  const valueOf = (f: SourceFixture, r: SourceRecord): string => (f.textOf ? f.textOf(r) : (r.value?.toString('utf8') ?? ''))

  /** Plans and reads batches until plan() says there is nothing; returns the records and the final position. */
  async function drain(f: SourceFixture, start: Position, limits: ReadLimits, maxBatches = 1000): Promise<{ records: SourceRecord[]; position: Position; batches: number }> {
    let position = start
    const records: SourceRecord[] = []
    let batches = 0
    for (;;) {
      const end = await f.source.plan(position, limits, signal)
      if (end === null) break
      const got = await readAll(f.source, position, end, signal)
      if (limits.maxRecords !== undefined) assert.ok(got.length <= limits.maxRecords, `batch of ${got.length} records exceeds maxRecords ${limits.maxRecords}`)
      records.push(...got)
      position = advance(position, end)
      batches++
      assert.ok(batches <= maxBatches, 'plan() keeps planning batches: it never runs dry')
    }
    return { records, position, batches }
  }

  describe(`source conformance: ${name}`, () => {
    test('plan() returns null when there is no data', async () => {
      await withFixture(async (f, start) => {
        assert.equal(await f.source.plan(start, {}, signal), null)
        assert.equal(await f.source.plan(start, { maxRecords: 10 }, signal), null)
      })
    })

    test('read(from, to) yields exactly the planned records, in order within each partition', async () => {
      await withFixture(async (f, start) => {
        const values = unique('exact', 57)
        await f.append(values)
        const end = await f.source.plan(start, {}, signal)
        assert.ok(end, 'plan() sees the appended records')
        const got = await readAll(f.source, start, end, signal)
        assert.deepEqual(got.map((r) => valueOf(f, r)).sort(), [...values].sort())
        assertPartitionOrder(got)
        for (const r of got) assert.ok(r.partition in end, `record of ${r.partition} belongs to a planned partition`)
        assert.equal(await f.source.plan(advance(start, end), {}, signal), null, 'nothing left after the batch')
      })
    })

    test('reading the same range twice gives identical records', async () => {
      await withFixture(async (f, start) => {
        await f.append(unique('twice', 40))
        const end = await f.source.plan(start, { maxRecords: 25 }, signal)
        assert.ok(end)
        const a = await readAll(f.source, start, end, signal)
        const b = await readAll(f.source, start, end, signal)
        assert.ok(a.length > 0)
        assert.deepEqual(b.map(recordIdentity), a.map(recordIdentity))
      })
    })

    test('limits are respected and successive batches cover a backlog exactly once', async () => {
      await withFixture(async (f, start) => {
        const values = unique('limit', 103)
        await f.append(values)
        const { records, batches } = await drain(f, start, { maxRecords: 10 })
        assert.ok(batches >= 11, `103 records in batches of at most 10 need >= 11 batches, got ${batches}`)
        const seen = records.map((r) => valueOf(f, r))
        assert.equal(new Set(seen).size, seen.length, 'no record is read twice')
        assert.deepEqual(seen.sort(), [...values].sort(), 'no record is lost')
        assertPartitionOrder(records)
      })
    })

    test('plan after advancing resumes exactly where the last batch ended', async () => {
      await withFixture(async (f, start) => {
        await f.append(unique('resume', 30))
        const first = await f.source.plan(start, { maxRecords: 12 }, signal)
        assert.ok(first)
        const a = await readAll(f.source, start, first, signal)
        const afterFirst = advance(start, first)
        const second = await f.source.plan(afterFirst, { maxRecords: 1000 }, signal)
        assert.ok(second)
        const b = await readAll(f.source, afterFirst, second, signal)
        assert.equal(a.length + b.length, 30)
        const ids = new Set(a.map(recordIdentity))
        for (const r of b) assert.ok(!ids.has(recordIdentity(r)), 'the second batch repeats nothing of the first')
        // Per partition, the second batch starts right after the first one's last record.
        for (const r of b) {
          const lastOfFirst = a.filter((x) => x.partition === r.partition).at(-1)
          if (lastOfFirst) assert.ok(BigInt(r.offset) > BigInt(lastOfFirst.offset))
        }
      })
    })

    test('data appended after a plan is left for the next plan', async () => {
      await withFixture(async (f, start) => {
        const before = unique('before', 20)
        await f.append(before)
        const end = await f.source.plan(start, {}, signal)
        assert.ok(end)
        const after = unique('after', 15)
        await f.append(after)
        const got = await readAll(f.source, start, end, signal)
        assert.deepEqual(got.map((r) => valueOf(f, r)).sort(), [...before].sort(), 'the planned range holds only what existed at plan time')
        const position = advance(start, end)
        const next = await f.source.plan(position, {}, signal)
        assert.ok(next, 'the next plan sees the new records')
        const more = await readAll(f.source, position, next, signal)
        assert.deepEqual(more.map((r) => valueOf(f, r)).sort(), [...after].sort())
      })
    })
  })
}
