// The deduplicate step end to end (real Kafka, real PostgreSQL, the CLI as the README runs it): a
// producer's at-least-once retries (the same key again, in the same batch or batches later) become
// exactly one row per key, also when the run is SIGKILLed before a commit and restarted: the keys
// the step remembers commit with the rows, so a crash neither forgets nor double-counts them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTopic, deleteTopics, produce, uniqueTopic } from '../helpers/kafka.ts'
import { type TestSchema, createTestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { kafkaPipeline } from './fixtures.ts'

const T0 = Date.UTC(2026, 0, 1)
const KEYS = 600

/** Every key once, in order, with a retry of a key sent 0-150 records earlier after every third record. */
function withRetries(): { value: string; partition: number }[] {
  const out: { value: string; partition: number }[] = []
  for (let id = 0; id < KEYS; id++) {
    out.push({ value: JSON.stringify({ id, at: new Date(T0 + id * 1000).toISOString() }), partition: 0 })
    if (id % 3 === 2) {
      const again = Math.max(0, id - ((id * 37) % 150))
      out.push({ value: JSON.stringify({ id: again, at: new Date(T0 + again * 1000).toISOString() }), partition: 0 })
    }
  }
  return out
}

function pipeline(s: TestSchema, topic: string, dir: string): Record<string, unknown> {
  const p = kafkaPipeline(s, topic, dir, { maxOffsets: 100 }) as { transform?: unknown[]; streamingConfigJson: Record<string, unknown> }
  p.transform = [{ type: 'deduplicate', keys: ['id'], withinWatermark: true }]
  // The retries are at most 150 s behind their key: a 10-minute delay remembers every key long enough.
  p.streamingConfigJson.watermark = { eventTimeColumn: 'at', delayThreshold: '10 minutes' }
  return p
}

async function check(s: TestSchema, produced: number): Promise<void> {
  const r = await s.pool.query<{ n: string; d: string }>('SELECT count(*) AS n, count(DISTINCT id) AS d FROM events')
  assert.deepEqual([Number(r.rows[0]?.n), Number(r.rows[0]?.d)], [KEYS, KEYS], 'one row per key')
  const t = await s.pool.query<{ n: string }>('SELECT sum(record_count)::text AS n FROM batch_tracker')
  assert.equal(Number(t.rows[0]?.n), produced, 'every record read exactly once (rows + filtered duplicates)')
  const state = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM sluice_keyed_state')
  assert.equal(Number(state.rows[0]?.n), KEYS, 'each key remembered once')
}

for (const failpoint of ['none', 'before-commit@2=kill', 'after-commit@3=kill']) {
  test(`deduplicate withinWatermark: retries become one row per key (${failpoint === 'none' ? 'clean run' : `SIGKILL at ${failpoint}, then a restart`})`, { timeout: 180_000 }, async () => {
    const s = await createTestSchema('dedup')
    const topic = uniqueTopic('dedup')
    try {
      await s.pool.query('CREATE TABLE events (id bigint NOT NULL, at timestamptz NOT NULL)')
      await createTopic(topic, 1)
      const messages = withRetries()
      await produce(topic, messages)
      const { file } = await writePipeline((d: string) => pipeline(s, topic, d))
      if (failpoint !== 'none') {
        const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: failpoint })
        assert.equal(crashed.signal, 'SIGKILL', crashed.stderr.slice(-2000))
      }
      const run = await runSluice(['run', file])
      assert.equal(run.code, 0, run.stderr.slice(-3000))
      await check(s, messages.length)
    } finally {
      await deleteTopics(topic).catch(() => {})
      await s.drop()
    }
  })
}
