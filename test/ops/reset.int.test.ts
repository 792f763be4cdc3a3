/**
 * `sluice reset` against a real broker and PostgreSQL, through the CLI as the README says: a
 * pipeline that ran (`sluice run`) is reset to earliest, a time, explicit offsets and latest, and
 * the next `sluice run` reads exactly from there (rows counted); a dry run changes nothing; bad
 * targets are refused naming the partition and value; a secured (SASL_SSL) cluster is reset through
 * the source's own settings. Crashes and running workers: reset-crash.int.test.ts.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { securedParams } from '../helpers/kafka.ts'
import { runSluice } from '../helpers/cli.ts'
import { BASE, type Report, errorOf, fx, ids, pipelineVariant, positions, produceEvents, range, reset, runFresh, setupReset, trackerRows } from './reset-support.ts'

describe('sluice reset', () => {
  before(setupReset)
  after(async () => {
    await fx.s.drop()
  })

  test('--dry-run prints every partition before and after and writes nothing', async () => {
    const tracker = await trackerRows()
    const dry = await reset('earliest', '--dry-run')
    assert.equal(dry.dryRun, true)
    assert.equal(dry.applied, false)
    assert.equal(dry.running, false)
    assert.equal(dry.batchId, tracker.length, 'the id a reset would take')
    assert.deepEqual(dry.partitions, [
      { partition: `${fx.topic}/0`, before: '150', after: '0', changed: true },
      { partition: `${fx.topic}/1`, before: '150', after: '0', changed: true },
    ])
    assert.deepEqual(await positions(), { '0': '150', '1': '150' })
    assert.deepEqual(await trackerRows(), tracker)
    // The human form shows the same.
    const text = await runSluice(['reset', fx.file, '--to', 'earliest', '--dry-run'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /dry run of a reset to earliest .*: nothing written; 2 partition\(s\) would move/)
    assert.match(text.stdout, new RegExp(`${fx.topic}/0 +150 +0\\n`))
  })

  test('earliest: the next run reads every record again, and the reset is a 0-record batch of the tracker with a history row', async () => {
    const before = await trackerRows()
    const r = await reset('earliest')
    assert.equal(r.applied, true)
    assert.equal(r.batchId, before.length)
    assert.deepEqual(await positions(), { '0': '0', '1': '0' })
    assert.deepEqual((await trackerRows()).at(-1), { batch_id: String(before.length), record_count: '0' })
    const { rows: history } = await fx.s.pool.query('SELECT target, before_positions, after_positions FROM sluice_position_resets WHERE pipeline_id = $1 AND batch_id = $2', [fx.pipelineId, r.batchId])
    const [p0, p1] = [`${fx.topic}/0`, `${fx.topic}/1`]
    assert.deepEqual(history, [{ target: 'earliest', before_positions: { [p0]: '150', [p1]: '150' }, after_positions: { [p0]: '0', [p1]: '0' } }])
    await runFresh()
    assert.deepEqual(await ids(), range(0, 300))
    assert.deepEqual(await positions(), { '0': '150', '1': '150' })
  })

  test('a time: each partition from its first record at or after it (ListOffsets by timestamp)', async () => {
    const r = await reset(new Date(BASE + 200_000).toISOString())
    // Record 200 (partition 0, offset 100) is the first at that time; in partition 1 it is record 201 (offset 100).
    assert.deepEqual(r.partitions.map((p) => p.after), ['100', '100'])
    await runFresh()
    assert.deepEqual(await ids(), range(200, 300))
    // Later than every record: the end of each log (only new records).
    const late = await reset(new Date(BASE + 10_000_000).toISOString(), '--dry-run')
    assert.deepEqual(late.partitions.map((p) => p.after), ['150', '150'])
  })

  test('offsets JSON: the named partitions move, the others keep their positions', async () => {
    const r = await reset(JSON.stringify({ [`${fx.topic}/0`]: 140 }))
    assert.deepEqual(r.partitions.map((p) => [p.before, p.after, p.changed]), [['150', '140', true], ['150', '150', false]])
    assert.deepEqual(await positions(), { '0': '140', '1': '150' })
    await runFresh()
    assert.deepEqual(await ids(), range(280, 300, 2))
  })

  test('latest: the next run reads only records produced after the reset', async () => {
    await produceEvents(300, 20)
    await reset('latest')
    assert.deepEqual(await positions(), { '0': '160', '1': '160' })
    await runFresh()
    assert.deepEqual(await ids(), [])
    await produceEvents(320, 10)
    await runFresh()
    assert.deepEqual(await ids(), range(320, 330))
    // Already there: nothing to change, nothing written.
    const rows = await trackerRows()
    const same = await reset('latest')
    assert.equal(same.applied, false)
    assert.deepEqual(await trackerRows(), rows)
  })

  test('bad targets are refused, naming the partition and value, and change nothing', async () => {
    const before = await positions()
    const usage = await runSluice(['reset', fx.file, '--to', JSON.stringify({ [`${fx.topic}/0`]: -9 })])
    assert.equal(usage.code, 2, usage.stderr)
    assert.match(usage.stderr, new RegExp(`at "${fx.topic}/0": -9 is not an offset`))
    const unknown = await runSluice(['reset', fx.file, '--json', '--to', JSON.stringify({ [`${fx.topic}/7`]: 0 })])
    assert.equal(unknown.code, 1)
    assert.equal(errorOf(unknown).code, 'RESET_REFUSED')
    assert.match(errorOf(unknown).message, new RegExp(`at "${fx.topic}/7": the pipeline's topics have no such partition .*${fx.topic}/0, ${fx.topic}/1`))
    const past = await runSluice(['reset', fx.file, '--to', JSON.stringify({ [`${fx.topic}/1`]: 999 })])
    assert.equal(past.code, 1)
    assert.match(past.stderr, new RegExp(`RESET_REFUSED: --to at "${fx.topic}/1": offset 999 is outside the partition's log, which holds offsets 0 to 165`))
    assert.deepEqual(await positions(), before)
  })

  test("a secured cluster (SASL_SSL, SCRAM) is reset through the source's own settings", async () => {
    const secured = await pipelineVariant({}, (config) => {
      const extract = config.extract as { connectionParams: Record<string, unknown> }
      return { ...config, extract: { ...extract, connectionParams: { ...extract.connectionParams, ...securedParams('SCRAM-SHA-512') } } }
    })
    const r = await runSluice(['reset', secured, '--to', 'earliest', '--dry-run', '--json'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.deepEqual((JSON.parse(r.stdout) as Report).partitions.map((p) => [p.before, p.after]), [['165', '0'], ['165', '0']])
  })
})
