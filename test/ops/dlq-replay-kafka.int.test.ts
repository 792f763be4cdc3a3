/**
 * `sluice dlq replay` from a Kafka DLQ topic, against real servers: the dead letters a run
 * published are read back read_committed, replayed once, and marked with the replay position in
 * the sink database in the rows' transaction. A replay killed (SIGKILL) inside one of its
 * transactions leaves marks, positions and the table in agreement; the rerun finishes, and one
 * more changes nothing; a still-failing dead letter holds its partition's position.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { readFile, writeFile } from 'node:fs/promises'
import { createAdmin, createTopic, kafkaBootstrap, produce, uniqueTopic } from '../helpers/kafka.ts'
import { runSluice } from '../helpers/cli.ts'
import { type Mark, assertTable, fx, kindOf, offsetsOf, pipelines, replay, setUp, sorted } from './replay-fixtures.ts'

describe('sluice dlq replay from a Kafka topic', () => {
  before(setUp)
  after(async () => {
    await fx.s.drop()
  })

  test('a Kafka DLQ topic: read back read_committed, the position in the database, kill mid-way, rerun, rerun again', async () => {
    const name = 'rpl_kafka'
    const dlqTopic = uniqueTopic('rpl-dlq')
    // A dead letter of another pipeline first on the DLQ topic (offset 0): passed, never replayed.
    await createTopic(dlqTopic, 1)
    await produce(dlqTopic, [{ value: JSON.stringify({ id: 999, kind: 'buy' }), headers: { 'sluice.error.code': 'RECORD_SCHEMA', 'sluice.pipeline.id': 'someone-else', 'sluice.source.topic': fx.topic, 'sluice.source.partition': '0', 'sluice.source.offset': '999', 'sluice.failed.at': new Date().toISOString() } }])
    const { fixed } = await pipelines(name, { dlqType: 'kafka', bootstrapServers: kafkaBootstrap, topic: dlqTopic })
    const pipelineId = `rpl_${name}_${fx.s.schema}`
    const marks = async (): Promise<Mark[]> =>
      (await fx.s.pool.query<Mark>('SELECT "offset"::text AS offset, replayed_at, replayed_as, replay_code, tried_at, attempts FROM sluice_dlq_replays WHERE pipeline_id = $1 ORDER BY "offset"', [pipelineId])).rows
    const position = async (): Promise<string | null> =>
      (await fx.s.pool.query<{ o: string }>('SELECT next_offset::text AS o FROM sluice_dlq_replay_positions WHERE pipeline_id = $1 AND dlq_topic = $2', [pipelineId, dlqTopic])).rows[0]?.o ?? null
    const dry = await replay(fixed, ['--dry-run'])
    assert.equal(dry.out?.deadLetters.length, 20)
    assert.match(dry.out?.where ?? '', new RegExp(`^kafka topic ${dlqTopic}$`))
    await assertTable(name, [])
    // --since / --until select by the time each failed: nothing failed in the future, all before it.
    const future = new Date(Date.now() + 3_600_000).toISOString()
    assert.deepEqual([(await replay(fixed, ['--dry-run', '--since', future])).out?.deadLetters.length, (await replay(fixed, ['--dry-run', '--code', 'RECORD_DECODE', '--until', future])).out?.deadLetters.length], [0, 5])

    const killed = await replay(fixed, ['--batch-size', '4'], { SLUICE_FAILPOINTS: 'replay-before-commit@2=kill' })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr)
    // Marks and table agree: 2 transactions of 4 DLQ records each (the first holds the other pipeline's) landed, the 3rd left nothing.
    const m1 = await marks()
    assert.equal(m1.length, 7, 'the marks of the 2 committed transactions only')
    const landed1 = m1.filter((m) => m.replayed_at !== null)
    const byDlqOffset = new Map((dry.out?.deadLetters ?? []).map((d) => [d.id, d.source.offset]))
    const sourceOf = (dlqOffset: string): string => byDlqOffset.get(`${dlqTopic}/0@${dlqOffset}`) ?? '?'
    await assertTable(name, landed1.filter((m) => m.replayed_as === 'row').map((m) => sourceOf(m.offset)))
    const heldAt = (ms: readonly Mark[]): string => String(Math.min(...ms.filter((m) => m.replayed_at === null).map((m) => Number(m.offset))))
    assert.equal(await position(), heldAt(m1), 'the position stops at the first dead letter that still fails')

    const rerun = await replay(fixed, ['--batch-size', '4'])
    assert.equal(rerun.code, 1)
    assert.deepEqual(rerun.out?.failed, { RECORD_COLUMN: 5, RECORD_DECODE: 5 })
    await assertTable(name, offsetsOf('buy'))
    const m2 = await marks()
    assert.equal(m2.length, 20)
    assert.deepEqual(sorted(m2.filter((m) => m.replayed_at !== null).map((m) => sourceOf(m.offset))), sorted(offsetsOf('buy', 'drop')))
    // The position: the first dead letter still failing holds it (DLQ offset 0 is the other pipeline's).
    assert.equal(await position(), heldAt(m2))

    const again = await replay(fixed)
    assert.deepEqual([again.out?.replayed, again.out?.failed], [0, { RECORD_COLUMN: 5, RECORD_DECODE: 5 }])
    await assertTable(name, offsetsOf('buy'))
    assert.ok((await marks()).filter((m) => m.replayed_at === null).every((m) => (m.attempts ?? 0) >= 2), 'each still failing one was tried again')

    // A pipeline with nothing of its own on the (shared) topic: its position passes every record, to the topic's end.
    const other = fixed.replace(/\.json$/, '-other.json')
    await writeFile(other, JSON.stringify({ ...(JSON.parse(await readFile(fixed, 'utf8')) as object), pipelineId: `rpl_other_${fx.s.schema}` }))
    const none = await replay(other)
    assert.deepEqual([none.code, none.out?.replayed, none.out?.failed], [0, 0, {}])
    const otherPosition = (await fx.s.pool.query<{ o: string }>('SELECT next_offset::text AS o FROM sluice_dlq_replay_positions WHERE pipeline_id = $1', [`rpl_other_${fx.s.schema}`])).rows[0]?.o
    assert.equal(otherPosition, await committedEnd(dlqTopic))

    const list = await runSluice(['dlq', 'list', fixed, '--json'])
    const listed = JSON.parse(list.stdout) as { deadLetters: { source: { offset: string }; replay?: { replayedAt: string | null; code: string | null } }[] }
    assert.deepEqual(sorted(listed.deadLetters.map((e) => e.source.offset)), sorted(offsetsOf('bad-amount', 'broken')))
    assert.ok(listed.deadLetters.every((e) => e.replay?.code === (kindOf(Number(e.source.offset)) === 'broken' ? 'RECORD_DECODE' : 'RECORD_COLUMN')))
  })
})

/** The read_committed end offset of partition 0 of `topic`. */
async function committedEnd(topic: string): Promise<string> {
  const admin = createAdmin()
  try {
    const r = await admin.listOffsets({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }], isolationLevel: 1 })
    return String(r[0]?.partitions[0]?.offset)
  } finally {
    await admin.close()
  }
}
