/**
 * Shared set-up of the `sluice reset` tests (reset.int.test.ts, reset-crash.int.test.ts): a
 * two-partition topic made as a user makes one, events with known record times, a Kafka ->
 * PostgreSQL pipeline that has run once (positions 150/150), and the CLI calls and table reads
 * the tests check with. Each test file is its own process, so each has its own fixture.
 */
import assert from 'node:assert/strict'
import { createTopic, produce, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { type CliResult, runSluice, writePipeline } from '../helpers/cli.ts'
import { EVENTS_DDL, events, kafkaPipeline } from '../e2e/fixtures.ts'

/** The `--json` output of `sluice reset`. */
export interface Report {
  ok: boolean
  pipelineId: string
  batchId: number
  applied: boolean
  running: boolean
  dryRun: boolean
  target: string
  partitions: { partition: string; before: string | null; after: string | null; changed: boolean }[]
  watermarkBefore: number | null
  watermarkAfter: number | null
}

/** Record i was produced with record time BASE + i s. */
export const BASE = Date.now() - 86_400_000

/** The fixture of one test file (set by setupReset). */
export const fx = {} as { s: TestSchema; topic: string; file: string; pipelineId: string }

/** Produces events `from`..`from+count-1`, even ids to partition 0 and odd ones to 1, with record times BASE + id s. */
export async function produceEvents(from: number, count: number): Promise<void> {
  await produce(fx.topic, events(count, from).map((m, i) => ({ ...m, partition: (from + i) % 2, timestamp: BASE + (from + i) * 1000 })))
}

/** Stored positions by partition number. */
export async function positions(): Promise<Record<string, string>> {
  const { rows } = await fx.s.pool.query<{ partition_key: string; position: string }>('SELECT partition_key, position FROM sluice_source_positions WHERE pipeline_id = $1', [fx.pipelineId])
  return Object.fromEntries(rows.map((r) => [r.partition_key.slice(fx.topic.length + 1), r.position]))
}

export async function trackerRows(): Promise<{ batch_id: string; record_count: string }[]> {
  const sql = 'SELECT batch_id::text, record_count::text FROM batch_tracker WHERE pipeline_id = $1 ORDER BY batch_tracker.batch_id'
  return (await fx.s.pool.query<{ batch_id: string; record_count: string }>(sql, [fx.pipelineId])).rows
}

/** The ids in the table, ascending. */
export async function ids(): Promise<number[]> {
  return (await fx.s.pool.query<{ id: string }>('SELECT id FROM events ORDER BY id')).rows.map((r) => Number(r.id))
}

export function range(from: number, to: number, step = 1): number[] {
  const out: number[] = []
  for (let i = from; i < to; i += step) out.push(i)
  return out
}

/** `sluice reset <file> --to <to> --json ...`, expecting success. */
export async function reset(to: string, ...args: string[]): Promise<Report> {
  const r = await runSluice(['reset', fx.file, '--to', to, '--json', ...args])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  return JSON.parse(r.stdout) as Report
}

/** Empties the table, then `sluice run` (availablenow): the rows are what it read after the reset. */
export async function runFresh(env: Record<string, string> = {}): Promise<CliResult> {
  await fx.s.pool.query('TRUNCATE events')
  const r = await runSluice(['run', fx.file], env)
  assert.equal(r.code, 0, r.stderr.slice(-3000))
  return r
}

/** The error of a failed `--json` command. */
export function errorOf(r: CliResult): { code: string; message: string } {
  return (JSON.parse(r.stdout) as { ok: false; error: { code: string; message: string } }).error
}

/** The pipeline file of the fixture's pipeline, with other overrides (a trigger, other connection settings). */
export async function pipelineVariant(overrides: Parameters<typeof kafkaPipeline>[3] = {}, edit: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c): Promise<string> {
  const { file } = await writePipeline((dir: string) => edit({ ...kafkaPipeline(fx.s, fx.topic, dir, { maxOffsets: 120, ...overrides }), pipelineId: fx.pipelineId }))
  return file
}

/** A schema, a topic with events 0..299 and a pipeline that has read them all. */
export async function setupReset(): Promise<void> {
  fx.s = await createTestSchema('rst')
  await fx.s.pool.query(EVENTS_DDL)
  fx.topic = uniqueTopic('rst')
  // The way a user makes a two-partition topic (kafka-topics.sh --create --partitions 2).
  await createTopic(fx.topic, 2)
  await produceEvents(0, 300)
  fx.pipelineId = `rst_${fx.s.schema}`
  fx.file = await pipelineVariant()
  await runFresh()
  assert.deepEqual(await ids(), range(0, 300))
  assert.deepEqual(await positions(), { '0': '150', '1': '150' })
}
