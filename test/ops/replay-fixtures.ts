/**
 * Shared set-up of the `sluice dlq replay` tests (dlq-replay-*.int.test.ts): a topic of good
 * records and records the pipeline's JSON Schema refuses, a pipeline that ran them into its DLQ
 * (`sluice run`), the same pipeline fixed (a relaxed schema and a filter step), and checks of the
 * target table and the marks.
 */
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTopic, produce, uniqueTopic, type TestMessage } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'
import { kafkaPipeline } from '../e2e/fixtures.ts'

/** What each source record is: good; fixed by the new schema; fixed but then filtered; fixed but refused by the table; never decodable. */
export type Kind = 'good' | 'buy' | 'drop' | 'bad-amount' | 'broken'
export const COUNT = 40
export const kindOf = (i: number): Kind => (['good', 'buy', 'good', 'drop', 'good', 'bad-amount', 'good', 'broken'] as const)[i % 8] as Kind
export const offsetsOf = (...kinds: Kind[]): string[] => [...Array(COUNT).keys()].filter((i) => kinds.includes(kindOf(i))).map(String)

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

/** The schema and source topic of the test file (set up by `setUp`). */
export const fx = { s: undefined as unknown as TestSchema, topic: '' }

/** A fresh schema and a topic with the COUNT records. */
export async function setUp(): Promise<void> {
  fx.s = await createTestSchema('rpl_replay')
  fx.topic = uniqueTopic('rpl-src')
  await createTopic(fx.topic, 1)
  await produce(fx.topic, [...Array(COUNT).keys()].map(message))
}

export interface Verdict {
  id: string
  original: { code: string; reason: string }
  code?: string
  source: { topic: string; partition: number; offset: string }
  outcome: 'row' | 'filtered' | 'deleted' | 'skipped' | 'failed'
  row?: Record<string, unknown>
  reason?: string
}
export interface ReplayJson {
  where: string
  dryRun: boolean
  replayed: number
  failed: Record<string, number>
  transactions: number
  notReplayed?: string[]
  deadLetters: Verdict[]
}

/** The pipeline as it ran (strict schema) and as fixed (relaxed schema, a filter step), same id, table and DLQ. */
export async function pipelines(name: string, dlq: Record<string, unknown> | null): Promise<{ original: string; fixed: string }> {
  const config = (dir: string, schemaDir: string, steps: unknown[]): Record<string, unknown> => {
    const base = kafkaPipeline(fx.s, fx.topic, dir, { table: name })
    return {
      ...base,
      pipelineId: `rpl_${name}_${fx.s.schema}`,
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
  await fx.s.pool.query(`CREATE TABLE ${name} (id bigint, kind text, amount numeric, event_time timestamptz, note text, "offset" bigint)`)
  const run = await runSluice(['run', original.file])
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  return { original: original.file, fixed: fixed.file }
}

export async function replay(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: ReplayJson | null; stderr: string }> {
  const r = await runSluice(['dlq', 'replay', file, '--json', ...args], env)
  return { code: r.code, signal: r.signal, out: r.signal === null ? (JSON.parse(r.stdout) as ReplayJson) : null, stderr: r.stderr }
}

/** Source offsets in the target table (with how often each is there). */
export async function tableOffsets(name: string): Promise<Map<string, number>> {
  const { rows } = await fx.s.pool.query<{ o: string; n: string }>(`SELECT "offset"::text AS o, count(*)::text AS n FROM ${name} GROUP BY 1`)
  return new Map(rows.map((r) => [r.o, Number(r.n)]))
}

export const sorted = (xs: Iterable<string>): string[] => [...xs].sort((a, b) => Number(a) - Number(b))

/** Every offset is in the table at most once, and exactly the good ones plus `landed`. */
export async function assertTable(name: string, landed: readonly string[]): Promise<void> {
  const offsets = await tableOffsets(name)
  for (const [o, n] of offsets) assert.equal(n, 1, `offset ${o} is in ${name} once`)
  assert.deepEqual(sorted(offsets.keys()), sorted([...offsetsOf('good'), ...landed]))
}

export interface Mark {
  offset: string
  replayed_at: Date | null
  replayed_as: string | null
  replay_code: string | null
  tried_at: Date | null
  attempts: number | null
}

/** A table DLQ's marks by source offset. */
export async function tableMarks(name: string): Promise<Mark[]> {
  const { rows } = await fx.s.pool.query<Mark>(
    `SELECT "sluice.source.offset"::text AS offset, "sluice.replayed.at" AS replayed_at, "sluice.replayed.as" AS replayed_as, "sluice.replay.code" AS replay_code,
       "sluice.replay.tried.at" AS tried_at, "sluice.replay.attempts" AS attempts FROM ${name}_dlq ORDER BY "sluice.source.offset"`,
  )
  return rows
}

/** The landed ones are exactly the `buy` (as row) and `drop` (as filtered) dead letters marked; the table agrees. */
export async function assertConsistent(name: string, marks: readonly Mark[]): Promise<void> {
  const landed = marks.filter((m) => m.replayed_at !== null)
  for (const m of landed) assert.equal(m.replayed_as, kindOf(Number(m.offset)) === 'buy' ? 'row' : 'filtered', `offset ${m.offset}`)
  for (const m of landed) assert.ok(['buy', 'drop'].includes(kindOf(Number(m.offset))), `only fixable ones land (offset ${m.offset})`)
  await assertTable(name, landed.filter((m) => m.replayed_as === 'row').map((m) => m.offset))
}

