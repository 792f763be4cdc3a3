/**
 * `sluice dlq replay` against real servers, for both DLQ kinds: a pipeline runs (`sluice run`)
 * records its JSON Schema refuses into the DLQ; the pipeline is fixed (a relaxed schema and a
 * filter step); the replay lands the fixable ones once and marks them, in the same transaction,
 * and leaves the others in the DLQ with their new error. A replay killed (SIGKILL) inside one of
 * its transactions leaves each dead letter either replayed-and-landed or untouched; the rerun
 * finishes with exact totals, and one more rerun changes nothing.
 */
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createTopic, kafkaBootstrap, produce, uniqueTopic, type TestMessage } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { kafkaPipeline } from '../e2e/fixtures.ts'

/** What each source record is: good; fixed by the new schema; fixed but then filtered; fixed but refused by the table; never decodable. */
type Kind = 'good' | 'buy' | 'drop' | 'bad-amount' | 'broken'
const COUNT = 40
const kindOf = (i: number): Kind => (['good', 'buy', 'good', 'drop', 'good', 'bad-amount', 'good', 'broken'] as const)[i % 8] as Kind
const offsetsOf = (...kinds: Kind[]): string[] => [...Array(COUNT).keys()].filter((i) => kinds.includes(kindOf(i))).map(String)

function message(i: number): TestMessage {
  const base = { id: i, kind: 'click', amount: i, event_time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), note: 'n' }
  switch (kindOf(i)) {
    case 'good':
      return { key: `k-${i}`, value: JSON.stringify(base) }
    case 'buy':
      return { key: `k-${i}`, value: JSON.stringify({ ...base, kind: 'buy' }), headers: { trace: `t-${i}` } }
    case 'drop':
      return { key: `k-${i}`, value: JSON.stringify({ ...base, kind: 'buy', note: 'drop' }) }
    case 'bad-amount':
      return { key: `k-${i}`, value: JSON.stringify({ ...base, kind: 'buy', amount: 'abc' }) }
    case 'broken':
      return { key: `k-${i}`, value: `{"id": ${i}, ` }
  }
}

const schema = (kinds: string[]): string => JSON.stringify({ type: 'object', required: ['id', 'kind'], properties: { id: { type: 'integer' }, kind: { enum: kinds } } })

let s: TestSchema
let topic: string

interface Verdict {
  id: string
  original: { code: string; reason: string }
  code?: string
  source: { topic: string; partition: number; offset: string }
  outcome: 'row' | 'filtered' | 'deleted' | 'skipped' | 'failed'
  row?: Record<string, unknown>
  reason?: string
}
interface ReplayJson {
  where: string
  dryRun: boolean
  replayed: number
  failed: Record<string, number>
  transactions: number
  notReplayed?: string[]
  deadLetters: Verdict[]
}

/** The pipeline as it ran (strict schema) and as fixed (relaxed schema, a filter step), same id, table and DLQ. */
async function pipelines(name: string, dlq: Record<string, unknown> | null): Promise<{ original: string; fixed: string }> {
  const config = (dir: string, schemaDir: string, steps: unknown[]): Record<string, unknown> => {
    const base = kafkaPipeline(s, topic, dir, { table: name })
    return {
      ...base,
      pipelineId: `rpl_${name}_${s.schema}`,
      schemaDir,
      extract: { ...(base.extract as object), schemaName: 'event' },
      transform: steps,
      ...(dlq ? { errorHandlingConfig: { ...(base.errorHandlingConfig as object), dlqConfig: dlq } } : {}),
    }
  }
  const original = await writePipeline((dir: string) => config(dir, join(dir, 'strict'), []))
  await mkdir(join(original.dir, 'strict'))
  await writeFile(join(original.dir, 'strict', 'event.json'), schema(['click', 'view']))
  const fixed = await writePipeline((dir: string) => config(dir, join(dir, 'relaxed'), [{ type: 'filter', field: 'note', op: 'ne', value: 'drop' }]))
  await mkdir(join(fixed.dir, 'relaxed'))
  await writeFile(join(fixed.dir, 'relaxed', 'event.json'), schema(['click', 'view', 'buy']))
  await s.pool.query(`CREATE TABLE ${name} (id bigint, kind text, amount numeric, event_time timestamptz, note text, "offset" bigint)`)
  const run = await runSluice(['run', original.file])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  return { original: original.file, fixed: fixed.file }
}

async function replay(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: ReplayJson | null; stderr: string }> {
  const r = await runSluice(['dlq', 'replay', file, '--json', ...args], env)
  return { code: r.code, signal: r.signal, out: r.signal === null ? (JSON.parse(r.stdout) as ReplayJson) : null, stderr: r.stderr }
}

/** Source offsets in the target table (with how often each is there). */
async function tableOffsets(name: string): Promise<Map<string, number>> {
  const { rows } = await s.pool.query<{ o: string; n: string }>(`SELECT "offset"::text AS o, count(*)::text AS n FROM ${name} GROUP BY 1`)
  return new Map(rows.map((r) => [r.o, Number(r.n)]))
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort((a, b) => Number(a) - Number(b))

/** Every offset is in the table at most once, and exactly the good ones plus `landed`. */
async function assertTable(name: string, landed: readonly string[]): Promise<void> {
  const offsets = await tableOffsets(name)
  for (const [o, n] of offsets) assert.equal(n, 1, `offset ${o} is in ${name} once`)
  assert.deepEqual(sorted(offsets.keys()), sorted([...offsetsOf('good'), ...landed]))
}

interface Mark {
  offset: string
  replayed_at: Date | null
  replayed_as: string | null
  replay_code: string | null
  tried_at: Date | null
  attempts: number | null
}

/** A table DLQ's marks by source offset. */
async function tableMarks(name: string): Promise<Mark[]> {
  const { rows } = await s.pool.query<Mark>(
    `SELECT "sluice.source.offset"::text AS offset, "sluice.replayed.at" AS replayed_at, "sluice.replayed.as" AS replayed_as, "sluice.replay.code" AS replay_code,
       "sluice.replay.tried.at" AS tried_at, "sluice.replay.attempts" AS attempts FROM ${name}_dlq ORDER BY "sluice.source.offset"`,
  )
  return rows
}

/** The landed ones are exactly the `buy` (as row) and `drop` (as filtered) dead letters marked; the table agrees. */
async function assertConsistent(name: string, marks: readonly Mark[]): Promise<void> {
  const landed = marks.filter((m) => m.replayed_at !== null)
  for (const m of landed) assert.equal(m.replayed_as, kindOf(Number(m.offset)) === 'buy' ? 'row' : 'filtered', `offset ${m.offset}`)
  for (const m of landed) assert.ok(['buy', 'drop'].includes(kindOf(Number(m.offset))), `only fixable ones land (offset ${m.offset})`)
  await assertTable(name, landed.filter((m) => m.replayed_as === 'row').map((m) => m.offset))
}

describe('sluice dlq replay', () => {
  before(async () => {
    s = await createTestSchema('rpl_replay')
    topic = uniqueTopic('rpl-src')
    await createTopic(topic, 1)
    await produce(topic, [...Array(COUNT).keys()].map(message))
  })
  after(async () => {
    await s.drop()
  })

  test('a PostgreSQL DLQ table: dry run, selection, kill mid-way, rerun, rerun again', async () => {
    const name = 'rpl_table'
    const { fixed } = await pipelines(name, null)
    const dead = offsetsOf('buy', 'drop', 'bad-amount', 'broken')
    assert.deepEqual((await tableMarks(name).catch(() => null)) === null, true, 'no replay columns before any replay')
    await assertTable(name, [])

    // Dry run: what each would become, nothing written (no replay columns added either).
    const dry = await replay(fixed, ['--dry-run'])
    assert.equal(dry.code, 1, 'some would still fail')
    assert.equal(dry.out?.dryRun, true)
    assert.equal(dry.out?.deadLetters.length, dead.length)
    const dryBy = new Map(dry.out?.deadLetters.map((d) => [d.source.offset, d]))
    for (const o of offsetsOf('buy', 'bad-amount')) assert.equal(dryBy.get(o)?.outcome, 'row', `offset ${o}: only the table can refuse "abc"`)
    for (const o of offsetsOf('drop')) assert.equal(dryBy.get(o)?.outcome, 'filtered')
    for (const o of offsetsOf('broken')) assert.deepEqual([dryBy.get(o)?.outcome, dryBy.get(o)?.code], ['failed', 'RECORD_DECODE'])
    assert.deepEqual(dryBy.get('1')?.row, { id: 1, kind: 'buy', amount: 1, event_time: '2026-01-01T00:00:01.000Z', note: 'n', offset: '1' })
    assert.equal(await tableMarks(name).catch(() => null), null, 'the dry run added no column')
    await assertTable(name, [])

    // --ids and --code together: only the listed ones of that code (offset 7 is RECORD_DECODE, 999 none).
    const one = await replay(fixed, ['--code', 'record_schema', '--ids', `${topic}/0@1#0,${topic}/0@7#0,${topic}/0@999#0`])
    assert.equal(one.code, 0, one.stderr)
    assert.deepEqual([one.out?.replayed, one.out?.deadLetters.map((d) => d.id), one.out?.notReplayed], [1, [`${topic}/0@1#0`], [`${topic}/0@7#0`, `${topic}/0@999#0`]])
    await assertTable(name, ['1'])

    // Killed inside its 4th transaction (3 dead letters each): 3 transactions landed, the 4th left nothing.
    const killed = await replay(fixed, ['--batch-size', '3'], { SLUICE_FAILPOINTS: 'replay-before-commit@3=kill' })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr)
    assert.match(killed.stderr, /failpoint replay-before-commit@3: SIGKILL/)
    const afterKill = await tableMarks(name)
    await assertConsistent(name, afterKill)
    // Tried in this run: the 3 x 3 of the committed transactions (offset 1 landed before).
    const triedNow = afterKill.filter((m) => m.tried_at !== null && m.offset !== '1')
    assert.deepEqual(sorted(triedNow.map((m) => m.offset)), ['3', '5', '7', '9', '11', '13', '15', '17', '19'], 'each dead letter of the killed transaction is untouched')

    // The rerun finishes; the totals are exact.
    const rerun = await replay(fixed, ['--batch-size', '3'])
    assert.equal(rerun.code, 1, 'the refused and undecodable ones still fail')
    assert.deepEqual(rerun.out?.failed, { RECORD_COLUMN: 5, RECORD_DECODE: 5 })
    const final = await tableMarks(name)
    await assertConsistent(name, final)
    await assertTable(name, offsetsOf('buy'))
    assert.deepEqual(sorted(final.filter((m) => m.replayed_at !== null).map((m) => m.offset)), sorted(offsetsOf('buy', 'drop')))
    for (const m of final.filter((x) => x.replayed_at === null)) {
      assert.equal(m.replay_code, kindOf(Number(m.offset)) === 'broken' ? 'RECORD_DECODE' : 'RECORD_COLUMN', `the new error of offset ${m.offset}`)
    }
    const refused = rerun.out?.deadLetters.find((d) => d.original.code === 'RECORD_SCHEMA' && d.outcome === 'failed')
    assert.equal(refused?.code, 'RECORD_COLUMN')
    assert.match(refused?.reason ?? '', /numeric/, 'the new reason is the table\'s')

    // Once more: nothing lands twice.
    const again = await replay(fixed)
    assert.deepEqual([again.out?.replayed, again.out?.failed], [0, { RECORD_COLUMN: 5, RECORD_DECODE: 5 }])
    await assertTable(name, offsetsOf('buy'))

    // dlq list hides the replayed ones; --all shows them, marked.
    const list = await runSluice(['dlq', 'list', fixed, '--json'])
    const listed = JSON.parse(list.stdout) as { deadLetters: { source: { offset: string }; replay?: { replayedAt: string | null; code: string | null; attempts: number } }[] }
    assert.deepEqual(sorted(listed.deadLetters.map((e) => e.source.offset)), sorted(offsetsOf('bad-amount', 'broken')))
    assert.ok(listed.deadLetters.every((e) => e.replay?.replayedAt === null && e.replay.attempts >= 2))
    const all = await runSluice(['dlq', 'list', fixed, '--all'])
    assert.match(all.stdout, /: 20 dead letter\(s\) in table /)
    assert.match(all.stdout, new RegExp(`^${topic}/0@1#0 .*\\[replayed \\S+ as row\\]$`, 'm'))
    assert.match(all.stdout, new RegExp(`^${topic}/0@5#0 .*\\[replay failed 3x, last \\S+: RECORD_COLUMN: `, 'm'))
  })

  test('a Kafka DLQ topic: read back read_committed, the position in the database, kill mid-way, rerun, rerun again', async () => {
    const name = 'rpl_kafka'
    const dlqTopic = uniqueTopic('rpl-dlq')
    // A dead letter of another pipeline first on the DLQ topic (offset 0): passed, never replayed.
    await createTopic(dlqTopic, 1)
    await produce(dlqTopic, [{ value: JSON.stringify({ id: 999, kind: 'buy' }), headers: { 'sluice.error.code': 'RECORD_SCHEMA', 'sluice.pipeline.id': 'someone-else', 'sluice.source.topic': topic, 'sluice.source.partition': '0', 'sluice.source.offset': '999', 'sluice.failed.at': new Date().toISOString() } }])
    const { fixed } = await pipelines(name, { dlqType: 'kafka', bootstrapServers: kafkaBootstrap, topic: dlqTopic })
    const pipelineId = `rpl_${name}_${s.schema}`
    const marks = async (): Promise<Mark[]> =>
      (await s.pool.query<Mark>('SELECT "offset"::text AS offset, replayed_at, replayed_as, replay_code, tried_at, attempts FROM sluice_dlq_replays WHERE pipeline_id = $1 ORDER BY "offset"', [pipelineId])).rows
    const position = async (): Promise<string | null> =>
      (await s.pool.query<{ o: string }>('SELECT next_offset::text AS o FROM sluice_dlq_replay_positions WHERE pipeline_id = $1 AND dlq_topic = $2', [pipelineId, dlqTopic])).rows[0]?.o ?? null
    const dry = await replay(fixed, ['--dry-run'])
    assert.equal(dry.out?.deadLetters.length, 20)
    assert.match(dry.out?.where ?? '', new RegExp(`^kafka topic ${dlqTopic}$`))
    await assertTable(name, [])

    const killed = await replay(fixed, ['--batch-size', '4'], { SLUICE_FAILPOINTS: 'replay-before-commit@2=kill' })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr)
    // Marks and table agree: 2 transactions of 4 DLQ records each (the first holds the other pipeline's) landed, the 3rd left nothing.
    const m1 = await marks()
    assert.equal(m1.length, 7, 'the marks of the 2 committed transactions only')
    const landed1 = m1.filter((m) => m.replayed_at !== null)
    const byDlqOffset = new Map((dry.out?.deadLetters ?? []).map((d) => [d.id, d.source.offset]))
    const sourceOf = (dlqOffset: string): string => byDlqOffset.get(`${dlqTopic}/0@${dlqOffset}`) ?? '?'
    await assertTable(name, landed1.filter((m) => m.replayed_as === 'row').map((m) => sourceOf(m.offset)))

    const rerun = await replay(fixed, ['--batch-size', '4'])
    assert.equal(rerun.code, 1)
    assert.deepEqual(rerun.out?.failed, { RECORD_COLUMN: 5, RECORD_DECODE: 5 })
    await assertTable(name, offsetsOf('buy'))
    const m2 = await marks()
    assert.equal(m2.length, 20)
    assert.deepEqual(sorted(m2.filter((m) => m.replayed_at !== null).map((m) => sourceOf(m.offset))), sorted(offsetsOf('buy', 'drop')))
    // The position: the first dead letter still failing holds it (DLQ offset 0 is the other pipeline's).
    const firstFailing = m2.filter((m) => m.replayed_at === null).map((m) => Number(m.offset)).sort((a, b) => a - b)[0]
    assert.equal(await position(), String(firstFailing))

    const again = await replay(fixed)
    assert.deepEqual([again.out?.replayed, again.out?.failed], [0, { RECORD_COLUMN: 5, RECORD_DECODE: 5 }])
    await assertTable(name, offsetsOf('buy'))
    assert.ok((await marks()).filter((m) => m.replayed_at === null).every((m) => (m.attempts ?? 0) >= 2), 'each still failing one was tried again')

    const list = await runSluice(['dlq', 'list', fixed, '--json'])
    const listed = JSON.parse(list.stdout) as { deadLetters: { source: { offset: string }; replay?: { replayedAt: string | null; code: string | null } }[] }
    assert.deepEqual(sorted(listed.deadLetters.map((e) => e.source.offset)), sorted(offsetsOf('bad-amount', 'broken')))
    assert.ok(listed.deadLetters.every((e) => e.replay?.code === (kindOf(Number(e.source.offset)) === 'broken' ? 'RECORD_DECODE' : 'RECORD_COLUMN')))
  })
})
