/**
 * The behaviour every Source must show, as a reusable node:test suite. A source's test calls
 * `sourceConformance(name, makeFixture)`; each test gets a fresh fixture (an empty source over its
 * own topic, folder, arrays, ...) and appends records through it, so every test passes alone
 * (`--test-name-pattern`) and in any order. The suite knows only src/api: nothing of Kafka or files.
 *
 * What it checks: plan() is null when there is nothing; initialPosition() is plain, repeatable JSON
 * and an empty `from` means "every partition at its initial position"; a partition missing from
 * `from` is read from its start; read(from, to) yields exactly the planned records, in order within
 * each partition; reading a range twice gives identical records, also after more data arrived;
 * maxRecords and maxBytes are respected (at least one record a batch) and the batches of a backlog
 * cover it exactly, with no loss and no duplicate; data appended after a plan is not in that batch
 * but in the next; latest() (when implemented) is where an unlimited batch ends; after close() no
 * record comes out any more.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Position } from '../../src/api/position.ts'
import { advance } from '../../src/api/position.ts'
import type { SourceRecord } from '../../src/api/record.ts'
import type { ReadLimits, Source } from '../../src/api/source.ts'
import { isSluiceError } from '../../src/errors.ts'

/** A source under test plus a way to add data to it. */
export interface SourceFixture {
  readonly source: Source
  /** Appends records with these values (UTF-8), spread over partitions as the source likes; resolves once a plan can see them. */
  append(values: readonly string[]): Promise<void>
  /** The value a record carries (default: `value` as UTF-8). */
  textOf?(record: SourceRecord): string
  /** Releases everything (the suite closes the source first). */
  close(): Promise<void>
  /**
   * Set only by a source whose documentation says it ignores ReadLimits.maxBytes:
   * the suite then checks that the cap does no harm, not that it bounds a batch.
   */
  readonly ignoresMaxBytes?: true
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

/** Asserts that a position is plain JSON: an object of partition keys to string positions. */
export function assertPlainPosition(p: Position, what: string): void {
  assert.equal(typeof p, 'object', `${what} is an object`)
  assert.ok(p !== null && !Array.isArray(p), `${what} is a plain object`)
  for (const [k, v] of Object.entries(p)) assert.equal(typeof v, 'string', `${what}: position of ${k} is a string`)
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p, `${what} survives a JSON round trip (the WAL and the database store it so)`)
}

const unique = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}-${Math.random().toString(36).slice(2, 8)}`)

/** n distinct values of exactly `size` bytes (ASCII), for the byte cap. */
const sized = (prefix: string, n: number, size: number): string[] => unique(prefix, n).map((v) => v.padEnd(size, '.').slice(0, size))

/** A position without one partition key. */
const without = (p: Position, key: string): Position => Object.fromEntries(Object.entries(p).filter(([k]) => k !== key))

/** True when the position after a batch differs from the one before on some partition. */
const advances = (from: Position, end: Position): boolean => Object.keys(end).some((k) => end[k] !== from[k])

/** Rejected because the source is closed. */
const closedError = (err: unknown): boolean => isSluiceError(err, 'SHUTDOWN')

/** The partition with the most records. */
function busiestPartition(records: readonly SourceRecord[]): string {
  const counts = new Map<string, number>()
  for (const r of records) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1)
  const best = [...counts].sort(([, a], [, b]) => b - a)[0]
  assert.ok(best, 'some partition has records')
  return best[0]
}

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
  const sortedValues = (f: SourceFixture, rs: readonly SourceRecord[]): string[] => rs.map((r) => valueOf(f, r)).sort()

  /** Plans and reads batches until plan() says there is nothing; returns the batches and the final position. */
  async function drain(f: SourceFixture, start: Position, limits: ReadLimits, maxBatches = 1000): Promise<{ records: SourceRecord[]; position: Position; batches: SourceRecord[][] }> {
    let position = start
    const records: SourceRecord[] = []
    const batches: SourceRecord[][] = []
    for (;;) {
      const end = await f.source.plan(position, limits, signal)
      if (end === null) break
      assert.ok(advances(position, end), `a planned batch moves the position on (planned ${JSON.stringify(end)} at ${JSON.stringify(position)})`)
      const got = await readAll(f.source, position, end, signal)
      if (limits.maxRecords !== undefined) assert.ok(got.length <= limits.maxRecords, `batch of ${got.length} records exceeds maxRecords ${limits.maxRecords}`)
      records.push(...got)
      batches.push(got)
      position = advance(position, end)
      assert.ok(batches.length <= maxBatches, 'plan() keeps planning batches: it never runs dry')
    }
    return { records, position, batches }
  }

  /** No record read twice, none lost. */
  function assertCoveredOnce(f: SourceFixture, records: readonly SourceRecord[], values: readonly string[]): void {
    const seen = records.map((r) => valueOf(f, r))
    assert.equal(new Set(seen).size, seen.length, 'no record is read twice')
    assert.deepEqual(seen.sort(), [...values].sort(), 'no record is lost')
    assertPartitionOrder(records)
  }

  describe(`source conformance: ${name}`, () => {
    test('plan() returns null when there is no data', async () => {
      await withFixture(async (f, start) => {
        assert.equal(await f.source.plan(start, {}, signal), null)
        assert.equal(await f.source.plan(start, { maxRecords: 10 }, signal), null)
        assert.equal(await f.source.plan(start, { maxBytes: 1 }, signal), null)
      })
    })

    test('initialPosition() is plain JSON, the same when asked twice, and an empty `from` starts there', async () => {
      await withFixture(async (f, start) => {
        assertPlainPosition(start, 'initialPosition()')
        assert.deepEqual(await f.source.initialPosition(signal), start, 'asked again with nothing new, the same position')
        const values = unique('initial', 30)
        await f.append(values)
        const fromStart = await f.source.plan(start, {}, signal)
        assert.ok(fromStart, 'plan() from the initial position sees the appended records')
        assertPlainPosition(fromStart, 'plan()')
        const fromEmpty = await f.source.plan({}, {}, signal)
        assert.ok(fromEmpty, 'plan() from an empty position sees the appended records')
        const a = await readAll(f.source, start, fromStart, signal)
        const b = await readAll(f.source, {}, fromEmpty, signal)
        assert.deepEqual(sortedValues(f, a), [...values].sort(), 'the initial position is before every appended record')
        assert.deepEqual(b.map(recordIdentity).sort(), a.map(recordIdentity).sort(), 'partitions absent from `from` start at their initial position')
      })
    })

    test('read(from, to) yields exactly the planned records, in order within each partition', async () => {
      await withFixture(async (f, start) => {
        const values = unique('exact', 57)
        await f.append(values)
        const end = await f.source.plan(start, {}, signal)
        assert.ok(end, 'plan() sees the appended records')
        const got = await readAll(f.source, start, end, signal)
        assert.deepEqual(sortedValues(f, got), [...values].sort())
        assertPartitionOrder(got)
        for (const r of got) assert.ok(r.partition in end, `record of ${r.partition} belongs to a planned partition`)
        assert.equal(await f.source.plan(advance(start, end), {}, signal), null, 'nothing left after the batch')
      })
    })

    test('a partition missing from `from` (one that appeared later) is read from its start', async () => {
      await withFixture(async (f, start) => {
        await f.append(unique('later', 30))
        const { records, position } = await drain(f, start, {})
        const key = busiestPartition(records)
        const from = without(position, key)
        const end = await f.source.plan(from, {}, signal)
        assert.ok(end, `plan() sees ${key}, which the position does not list`)
        for (const [k, v] of Object.entries(end)) if (k !== key) assert.equal(v, position[k], `only ${key} moves; ${k} was read to its end already`)
        const again = await readAll(f.source, from, end, signal)
        const expected = records.filter((r) => r.partition === key).map(recordIdentity)
        assert.ok(expected.length > 0)
        assert.deepEqual(again.map(recordIdentity), expected, `every record of ${key}, from its first`)
        assert.equal(await f.source.plan(advance(from, end), {}, signal), null, 'nothing left after that')
      })
    })

    test('reading the same range twice gives identical records, also after more data arrived', async () => {
      await withFixture(async (f, start) => {
        await f.append(unique('twice', 40))
        const end = await f.source.plan(start, { maxRecords: 25 }, signal)
        assert.ok(end)
        const a = await readAll(f.source, start, end, signal)
        const b = await readAll(f.source, start, end, signal)
        assert.ok(a.length > 0)
        assert.deepEqual(b.map(recordIdentity), a.map(recordIdentity))
        // A replay after a crash reads its range again once newer records exist, and after other reads.
        await f.append(unique('later', 20))
        const next = advance(start, end)
        const rest = await f.source.plan(next, {}, signal)
        assert.ok(rest)
        assert.ok((await readAll(f.source, next, rest, signal)).length > 0)
        const c = await readAll(f.source, start, end, signal)
        assert.deepEqual(c.map(recordIdentity), a.map(recordIdentity), 'the range is the same batch after appends and other reads')
      })
    })

    test('limits are respected and successive batches cover a backlog exactly once', async () => {
      await withFixture(async (f, start) => {
        const values = unique('limit', 103)
        await f.append(values)
        const { records, batches } = await drain(f, start, { maxRecords: 10 })
        assert.ok(batches.length >= 11, `103 records in batches of at most 10 need >= 11 batches, got ${batches.length}`)
        assertCoveredOnce(f, records, values)
      })
    })

    test('maxBytes below one record still plans: at least one record a batch, the backlog covered once', async () => {
      await withFixture(async (f, start) => {
        const values = sized('tiny', 12, 64)
        await f.append(values)
        const first = await f.source.plan(start, { maxBytes: 1 }, signal)
        assert.ok(first, 'a record larger than the cap still makes a batch')
        const got = await readAll(f.source, start, first, signal)
        assert.ok(got.length >= 1, 'the first batch holds a record')
        const { records, batches } = await drain(f, start, { maxBytes: 1 })
        assertCoveredOnce(f, records, values)
        if (!f.ignoresMaxBytes) {
          for (const b of batches) assert.ok(b.length <= 1, `a cap below one record makes batches of one record, got ${b.length}`)
          assert.ok(batches.length >= values.length, `${values.length} records need >= ${values.length} batches, got ${batches.length}`)
        }
      })
    })

    test('maxBytes of a few records bounds each batch (records of one size: the cap plus at most one record)', async () => {
      await withFixture(async (f, start) => {
        const size = 64
        const values = sized('bytes', 60, size)
        await f.append(values)
        const cap = 8 * size
        const { records, batches } = await drain(f, start, { maxBytes: cap })
        assertCoveredOnce(f, records, values)
        if (f.ignoresMaxBytes) return
        for (const b of batches) {
          const bytes = b.reduce((sum, r) => sum + Buffer.byteLength(valueOf(f, r)), 0)
          assert.ok(bytes <= cap + size, `a batch of ${bytes} bytes passes the cap of ${cap} by more than one record`)
        }
        const least = Math.ceil((values.length * size) / (cap + size))
        assert.ok(batches.length >= least, `${values.length * size} bytes under a cap of ${cap} need >= ${least} batches, got ${batches.length}`)
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
        assert.deepEqual(sortedValues(f, got), [...before].sort(), 'the planned range holds only what existed at plan time')
        const position = advance(start, end)
        const next = await f.source.plan(position, {}, signal)
        assert.ok(next, 'the next plan sees the new records')
        const more = await readAll(f.source, position, next, signal)
        assert.deepEqual(sortedValues(f, more), [...after].sort())
      })
    })

    test('latest() (when implemented) is ahead of a partial batch and where an unlimited batch ends', async (t) => {
      await withFixture(async (f, start) => {
        const latest = f.source.latest?.bind(f.source)
        if (!latest) {
          t.skip('the source does not implement latest()')
          return
        }
        await f.append(unique('latest', 40))
        const partial = await f.source.plan(start, { maxRecords: 10 }, signal)
        assert.ok(partial)
        const behind = advance(start, partial)
        const ahead = await latest(signal)
        assertPlainPosition(ahead, 'latest()')
        assert.ok(Object.keys(ahead).some((k) => ahead[k] !== behind[k]), `latest() ${JSON.stringify(ahead)} shows lag after a partial batch ending at ${JSON.stringify(behind)}`)
        const end = await f.source.plan(start, {}, signal)
        assert.ok(end)
        const done = advance(start, end)
        const now = await latest(signal)
        assert.ok(Object.keys(now).length > 0, 'latest() lists the partitions with data')
        for (const [k, v] of Object.entries(now)) assert.equal(done[k], v, `latest() of ${k} is where an unlimited batch ends`)
      })
    })

    test('after close() no record comes out: a read in progress stops, plan() and read() reject', async () => {
      await withFixture(async (f, start) => {
        await f.append(unique('close', 30))
        const end = await f.source.plan(start, {}, signal)
        assert.ok(end)
        const reading = f.source.read(start, end, signal)[Symbol.asyncIterator]()
        const first = await reading.next()
        assert.ok(!first.done && first.value.length > 0, 'the read yields records before close()')
        await f.source.close()
        const late: SourceRecord[] = []
        try {
          for (let r = await reading.next(); !r.done; r = await reading.next()) late.push(...r.value)
        } catch (err) {
          assert.ok(closedError(err), `a read stopped by close() fails with SHUTDOWN, not ${String(err)}`)
        }
        assert.deepEqual(late, [], 'the read in progress yields nothing after close()')
        await assert.rejects(f.source.plan(start, {}, signal), closedError, 'plan() after close() rejects with SHUTDOWN')
        await assert.rejects(readAll(f.source, start, end, signal), closedError, 'read() after close() rejects with SHUTDOWN')
        if (f.source.latest) await assert.rejects(f.source.latest(signal), closedError, 'latest() after close() rejects with SHUTDOWN')
        await f.source.close() // a second close() is harmless (the fixture closes once more)
      })
    })
  })
}
