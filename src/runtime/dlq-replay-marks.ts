/**
 * The replay bookkeeping of a Kafka DLQ topic, in the sink database (the topic itself cannot be
 * changed): written in the same transaction as the replayed rows, so it can never disagree with
 * the target table.
 *
 * - `sluice_dlq_replays`: one row per dead letter a replay tried, by DLQ partition and offset:
 *   when it landed and how, or the error of its last failed try.
 * - `sluice_dlq_replay_positions`: per DLQ partition, the offset below which nothing of the
 *   pipeline is left to replay (every dead letter there landed; records of other pipelines are
 *   passed). A dead letter that still fails, or one a selection left out, holds the position, so
 *   it is read again by the next replay; the marks keep the ones after it from landing twice.
 */
import type { PgSession } from '../components/sinks/postgres/index.ts'
import { sqlState } from '../components/sinks/postgres/classify-error.ts'
import { quoteName } from '../components/sinks/postgres/sql/quote.ts'
import type { ReplayState } from './dlq-entry.ts'
import type { ReplayVerdict } from './dlq-replay-path.ts'

type Queryable = Pick<PgSession, 'query'>

export const MARKS_TABLE = 'sluice_dlq_replays'
export const POSITIONS_TABLE = 'sluice_dlq_replay_positions'

/** Where a DLQ topic's marks are: the pipeline's schema, its id, the topic. */
export interface MarksScope {
  readonly schema: string
  readonly pipelineId: string
  readonly topic: string
}

/** Creates both tables when absent (a concurrent replay creating them too is not an error). */
export async function ensureMarkTables(db: Queryable, schema: string): Promise<void> {
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${quoteName(schema, MARKS_TABLE)} (
      pipeline_id text NOT NULL, dlq_topic text NOT NULL, partition integer NOT NULL, "offset" bigint NOT NULL,
      replayed_at timestamptz, replayed_as text, replay_code text, replay_reason text,
      tried_at timestamptz NOT NULL, attempts integer NOT NULL,
      PRIMARY KEY (pipeline_id, dlq_topic, partition, "offset"))`,
    `CREATE TABLE IF NOT EXISTS ${quoteName(schema, POSITIONS_TABLE)} (
      pipeline_id text NOT NULL, dlq_topic text NOT NULL, partition integer NOT NULL, next_offset bigint NOT NULL,
      updated_at timestamptz NOT NULL, PRIMARY KEY (pipeline_id, dlq_topic, partition))`,
  ]
  for (const sql of statements) {
    try {
      await db.query(sql)
    } catch (err) {
      // IF NOT EXISTS still races on the catalog with another replay creating the table.
      const state = sqlState(err)
      if (state !== '23505' && state !== '42P07') throw err
    }
  }
}

async function exists(db: Queryable, schema: string, table: string): Promise<boolean> {
  const r = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [quoteName(schema, table)])
  return r.rows[0]?.t != null
}

interface MarkRow {
  partition: number
  offset: string
  replayed_at: Date | string | null
  replayed_as: string | null
  replay_code: string | null
  replay_reason: string | null
  tried_at: Date | string
  attempts: number
}

/** The marks of the scope by entry id (`<topic>/<partition>@<offset>`); only those at `at` when given. Empty before any replay. */
export async function readMarks(db: Queryable, scope: MarksScope, at?: readonly { partition: number; offset: string }[]): Promise<Map<string, ReplayState>> {
  const out = new Map<string, ReplayState>()
  if (at?.length === 0 || !(await exists(db, scope.schema, MARKS_TABLE))) return out
  const params: unknown[] = [scope.pipelineId, scope.topic, at === undefined ? null : at.map((a) => a.partition), at === undefined ? null : at.map((a) => a.offset)]
  const r = await db.query<MarkRow>(
    `SELECT partition, "offset"::text AS "offset", replayed_at, replayed_as, replay_code, replay_reason, tried_at, attempts FROM ${quoteName(scope.schema, MARKS_TABLE)}
      WHERE pipeline_id = $1 AND dlq_topic = $2 AND ($3::int[] IS NULL OR (partition, "offset") IN (SELECT * FROM unnest($3::int[], $4::bigint[])))`,
    params,
  )
  for (const m of r.rows) {
    out.set(`${scope.topic}/${m.partition}@${m.offset}`, {
      replayedAt: m.replayed_at === null ? null : new Date(m.replayed_at).toISOString(),
      replayedAs: m.replayed_as,
      code: m.replay_code,
      reason: m.replay_reason,
      triedAt: new Date(m.tried_at).toISOString(),
      attempts: Number(m.attempts),
    })
  }
  return out
}

/** Stored positions by DLQ partition number; empty before any replay. */
export async function readPositions(db: Queryable, scope: MarksScope): Promise<Map<number, bigint>> {
  if (!(await exists(db, scope.schema, POSITIONS_TABLE))) return new Map()
  const r = await db.query<{ partition: number; next_offset: string }>(`SELECT partition, next_offset::text AS next_offset FROM ${quoteName(scope.schema, POSITIONS_TABLE)} WHERE pipeline_id = $1 AND dlq_topic = $2`, [scope.pipelineId, scope.topic])
  return new Map(r.rows.map((p) => [Number(p.partition), BigInt(p.next_offset)]))
}

/** Records one transaction's verdicts: landed ones with how, failed ones with their new error. */
export async function writeMarks(db: Queryable, scope: MarksScope, marks: readonly { partition: number; offset: string; verdict: ReplayVerdict }[], now: string): Promise<void> {
  if (marks.length === 0) return
  const failed = (v: ReplayVerdict): v is Extract<ReplayVerdict, { outcome: 'failed' }> => v.outcome === 'failed'
  await db.query(
    `INSERT INTO ${quoteName(scope.schema, MARKS_TABLE)} AS m (pipeline_id, dlq_topic, partition, "offset", replayed_at, replayed_as, replay_code, replay_reason, tried_at, attempts)
       SELECT $1, $2, u.p, u.o, CASE WHEN u.how IS NULL THEN NULL ELSE $3::timestamptz END, u.how, u.code, u.reason, $3::timestamptz, 1
         FROM unnest($4::int[], $5::bigint[], $6::text[], $7::text[], $8::text[]) AS u(p, o, how, code, reason)
     ON CONFLICT (pipeline_id, dlq_topic, partition, "offset") DO UPDATE SET
       replayed_at = EXCLUDED.replayed_at, replayed_as = EXCLUDED.replayed_as,
       replay_code = coalesce(EXCLUDED.replay_code, m.replay_code), replay_reason = coalesce(EXCLUDED.replay_reason, m.replay_reason),
       tried_at = EXCLUDED.tried_at, attempts = m.attempts + 1`,
    [
      scope.pipelineId,
      scope.topic,
      now,
      marks.map((m) => m.partition),
      marks.map((m) => m.offset),
      marks.map((m) => (failed(m.verdict) ? null : m.verdict.outcome)),
      marks.map((m) => (failed(m.verdict) ? m.verdict.code : null)),
      marks.map((m) => (failed(m.verdict) ? m.verdict.reason : null)),
    ],
  )
}

/** Moves positions forward (never back: a concurrent replay may have passed them already). */
export async function advancePositions(db: Queryable, scope: MarksScope, positions: ReadonlyMap<number, bigint>, now: string): Promise<void> {
  if (positions.size === 0) return
  const entries = [...positions]
  await db.query(
    `INSERT INTO ${quoteName(scope.schema, POSITIONS_TABLE)} AS p (pipeline_id, dlq_topic, partition, next_offset, updated_at)
       SELECT $1, $2, u.p, u.o, $3::timestamptz FROM unnest($4::int[], $5::bigint[]) AS u(p, o)
     ON CONFLICT (pipeline_id, dlq_topic, partition) DO UPDATE SET next_offset = GREATEST(p.next_offset, EXCLUDED.next_offset), updated_at = EXCLUDED.updated_at`,
    [scope.pipelineId, scope.topic, now, entries.map(([p]) => p), entries.map(([, o]) => o.toString())],
  )
}
