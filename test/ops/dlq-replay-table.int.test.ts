/**
 * `sluice dlq replay` from a PostgreSQL DLQ table, against real servers: a pipeline ran records its
 * JSON Schema refuses into the DLQ table (`sluice run`); the pipeline is fixed (a relaxed schema
 * and a filter step); the replay lands the fixable ones once and marks their rows in the same
 * transaction, and leaves the others with their new error. A replay killed (SIGKILL) inside one
 * of its transactions leaves each dead letter either replayed-and-landed or untouched; the rerun
 * finishes with exact totals, one more changes nothing, and two replays at once take turns.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { kafkaPipeline } from '../e2e/fixtures.ts'
import { assertConsistent, assertTable, fx, kindOf, offsetsOf, pipelines, replay, setUp, sorted, tableMarks } from './replay-fixtures.ts'

describe('sluice dlq replay from a table', () => {
  before(setUp)
  after(async () => {
    await fx.s.drop()
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

    // The text form of a dry run.
    const text = await runSluice(['dlq', 'replay', fixed, '--dry-run', '--ids', `${fx.topic}/0@1#0,${fx.topic}/0@3#0`])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, new RegExp(`^${fx.topic}/0@1#0: would land as row \\{"id":1,`, 'm'))
    assert.match(text.stdout, new RegExp(`^${fx.topic}/0@3#0: filtered by a step \\(would be marked replayed\\)$`, 'm'))
    assert.match(text.stdout, /: from table \S+\.rpl_table_dlq: 2 would be replayed, 0 still failing \(dry run: nothing written\)$/m)

    // --ids and --code together: only the listed ones of that code (offset 7 is RECORD_DECODE, 999 none).
    const one = await replay(fixed, ['--code', 'record_schema', '--ids', `${fx.topic}/0@1#0,${fx.topic}/0@7#0,${fx.topic}/0@999#0`])
    assert.equal(one.code, 0, one.stderr)
    assert.deepEqual([one.out?.replayed, one.out?.deadLetters.map((d) => d.id), one.out?.notReplayed], [1, [`${fx.topic}/0@1#0`], [`${fx.topic}/0@7#0`, `${fx.topic}/0@999#0`]])
    await assertTable(name, ['1'])

    // Killed inside its 4th transaction (3 dead letters each), its rows COPYed, its marks not yet
    // written: 3 transactions landed, the 4th left nothing. (The Kafka test kills just before COMMIT.)
    const killed = await replay(fixed, ['--batch-size', '3'], { SLUICE_FAILPOINTS: 'replay-after-rows@3=kill' })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr)
    assert.match(killed.stderr, /failpoint replay-after-rows@3: SIGKILL/)
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

    // Once more (the text form): nothing lands twice.
    const again = await runSluice(['dlq', 'replay', fixed])
    assert.equal(again.code, 1)
    assert.match(again.stdout, /: from table \S+: 0 replayed, 10 still failing \((?=.*RECORD_COLUMN 5)(?=.*RECORD_DECODE 5).*\) in 1 transaction\(s\)$/m)
    assert.match(again.stdout, new RegExp(`^${fx.topic}/0@5#0: still failing RECORD_COLUMN: .*numeric.* \\(stays in the DLQ\\)$`, 'm'))
    await assertTable(name, offsetsOf('buy'))
    const shown = await runSluice(['dlq', 'show', fixed, `${fx.topic}/0@5#0`])
    assert.match(shown.stdout, /^replay {5}failed 3x, last \S+: RECORD_COLUMN: /m)
    assert.match((await runSluice(['dlq', 'show', fixed, `${fx.topic}/0@1#0`])).stdout, /^replayed {3}\S+ as row$/m)

    // dlq list hides the replayed ones; --all shows them, marked.
    const list = await runSluice(['dlq', 'list', fixed, '--json'])
    const listed = JSON.parse(list.stdout) as { deadLetters: { source: { offset: string }; replay?: { replayedAt: string | null; code: string | null; attempts: number } }[] }
    assert.deepEqual(sorted(listed.deadLetters.map((e) => e.source.offset)), sorted(offsetsOf('bad-amount', 'broken')))
    assert.ok(listed.deadLetters.every((e) => e.replay?.replayedAt === null && e.replay.attempts >= 2))
    const all = await runSluice(['dlq', 'list', fixed, '--all'])
    assert.match(all.stdout, /: 20 dead letter\(s\) in table /)
    assert.match(all.stdout, new RegExp(`^${fx.topic}/0@1#0 .*\\[replayed \\S+ as row\\]$`, 'm'))
    assert.match(all.stdout, new RegExp(`^${fx.topic}/0@5#0 .*\\[replay failed 3x, last \\S+: RECORD_COLUMN: `, 'm'))

    // A replay that fails (the target table is gone) rolls back: every dead letter is as it was.
    const before = JSON.stringify(await tableMarks(name))
    await fx.s.pool.query(`ALTER TABLE ${name} RENAME TO ${name}_away`)
    const gone = await runSluice(['dlq', 'replay', fixed])
    await fx.s.pool.query(`ALTER TABLE ${name}_away RENAME TO ${name}`)
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /^sluice: SINK_SCHEMA: .*rpl_table/m)
    assert.equal(JSON.stringify(await tableMarks(name)), before)
  })

  test('an aggregate pipeline is refused before anything is opened', async () => {
    const { file } = await writePipeline((dir: string) => {
      const base = kafkaPipeline(fx.s, fx.topic, dir, { table: 'rpl_agg', writeMode: 'upsert', upsertKeys: ['kind'] })
      return {
        ...base,
        transform: [{ type: 'aggregate', groupBy: ['kind'], aggregations: { n: { fn: 'count' } } }],
        streamingConfigJson: { ...(base.streamingConfigJson as object), outputMode: 'update' },
      }
    })
    const r = await runSluice(['dlq', 'replay', file, '--json'])
    assert.equal(r.code, 1)
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'UNSUPPORTED')
    assert.match(r.stdout, /does not replay into an aggregate pipeline/)
  })

  test('two replays at once take turns: each dead letter lands once', async () => {
    const name = 'rpl_twice'
    const { fixed } = await pipelines(name, null)
    const both = await Promise.all([replay(fixed, ['--batch-size', '2']), replay(fixed, ['--batch-size', '2'])])
    assert.equal(both.reduce((n, r) => n + (r.out?.replayed ?? 0), 0), 10, 'the 5 rows and 5 filtered ones, replayed by one or the other')
    await assertTable(name, offsetsOf('buy'))
    const marks = await tableMarks(name)
    await assertConsistent(name, marks)
    assert.ok(marks.filter((m) => m.replayed_at !== null).every((m) => m.attempts === 1), 'no dead letter was replayed twice')
  })
})
