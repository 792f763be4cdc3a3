/**
 * The stateful scenarios (issue 12): a windowed aggregation in append mode and a deduplication,
 * each reading its own event shape (events.ts) and checked against what that shape must give,
 * not against Sluice's own bookkeeping alone, before its figure is printed.
 */
import type pg from 'pg'
import { DUPLICATED, WINDOWED, WINDOW_MS, duplicatedDistinct, windowedPairs } from './events.ts'
import { checkTable, trackedRecords } from './pg.ts'
import type { RunMeasure, Scenario } from './sluice.ts'

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

/**
 * 1-minute tumbling windows per user over 10,000 users, written once each when the watermark
 * passes their end. The events are in event-time order on every partition, so a 10-second delay
 * makes nothing late; late records would go to the table `late` and are counted by the check.
 */
export const windowAppend: Scenario = {
  name: 'exactly-once window append (10,000 keys, 1-minute windows)',
  writeMode: 'append',
  exactlyOnce: true,
  shape: WINDOWED,
  pipeline: {
    transform: [{ type: 'aggregate', groupBy: ['user_id'], window: { column: 'event_time', duration: '1 minute' }, aggregations: { n: { fn: 'count' }, amount: { fn: 'sum', field: 'amount' } } }],
    table: { name: 'per_minute', columns: { user_id: 'text', n: 'bigint', amount: 'numeric' } },
    streaming: {
      outputMode: 'append',
      watermark: { eventTimeColumn: 'event_time', delayThreshold: '10 seconds' },
      lateDataConfig: { strategy: 'separatestream', separateTable: 'late' },
    },
  },
  verify: verifyWindows,
}

/**
 * Drops the 10 % repeated ids. `withinWatermark` rather than `stateTimeout`: a retry is the same
 * event with the same event time, so the watermark tells when no retry of a key can come any more;
 * the state is bounded by event time and the same on a re-run, where a processing-time timeout
 * would keep every key of a backlog replayed faster than the timeout. The 5-minute delay covers a
 * Kafka producer's default delivery.timeout.ms (2 minutes) with room to spare.
 */
export const dedup: Scenario = {
  name: 'exactly-once deduplicate (10 % duplicates)',
  writeMode: 'append',
  exactlyOnce: true,
  shape: DUPLICATED,
  pipeline: {
    transform: [{ type: 'deduplicate', keys: ['id'], withinWatermark: true }],
    streaming: { watermark: { eventTimeColumn: 'event_time', delayThreshold: '5 minutes' } },
  },
  verify: verifyDedup,
}

/** One row of a query's result with every column as text. */
async function row(pool: pg.Pool, sql: string): Promise<Record<string, string | null>> {
  const { rows } = await pool.query<Record<string, string | null>>(sql)
  return rows[0] ?? {}
}

/** Column `name` of a result row as a number (NaN when absent, which fails every check). */
const num = (r: Record<string, string | null>, name: string): number => Number(r[name])

/** Rows of the late-record table (it exists only once a record was late). */
async function lateRows(pool: pg.Pool, schema: string): Promise<number> {
  const exists = await row(pool, `SELECT to_regclass('"${schema}".late')::text AS t`)
  if (exists['t'] === null) return 0
  return num(await row(pool, `SELECT count(*) AS n FROM "${schema}".late`), 'n')
}

/**
 * Every event counted exactly once: the counts of the written windows, plus those still open in
 * sluice_window_state, plus the late records, add up to N; no (user, window) is written twice or
 * both written and open; every window is one minute long; the batches counted N records.
 */
async function verifyWindows(pool: pg.Pool, schema: string, n: number, m: RunMeasure): Promise<string> {
  const written = await row(pool, `SELECT count(*) AS rows, count(DISTINCT (user_id, window_start)) AS pairs, coalesce(sum(n), 0) AS counted,
      count(*) FILTER (WHERE window_end - window_start <> make_interval(secs => ${WINDOW_MS / 1000})) AS odd FROM "${schema}".per_minute`)
  const open = await row(pool, `SELECT count(*) AS rows, coalesce(sum((state->'partials'->0->>'n')::bigint), 0) AS counted FROM "${schema}".sluice_window_state`)
  const late = await lateRows(pool, schema)
  const tracked = await trackedRecords(pool, schema)
  const [rows, pairs, counted, odd] = [num(written, 'rows'), num(written, 'pairs'), num(written, 'counted'), num(written, 'odd')]
  const [openRows, openCounted] = [num(open, 'rows'), num(open, 'counted')]
  const expectedPairs = windowedPairs(n)
  const problems = [
    counted + openCounted + late !== n ? `written counts ${counted} + open ${openCounted} + late ${late} != ${n}` : '',
    pairs !== rows ? `${rows - pairs} (user, window) rows written twice` : '',
    rows + openRows !== expectedPairs ? `${rows} written + ${openRows} open windows, the events fall into ${expectedPairs}` : '',
    odd !== 0 ? `${odd} windows not ${WINDOW_MS / 1000} s long` : '',
    late !== m.late ? `late table ${late}, batches logged ${m.late} late` : '',
    tracked !== n ? `batch_tracker counts ${tracked} records` : '',
  ].filter(Boolean)
  if (problems.length) throw new Error(`window check failed: ${problems.join('; ')}`)
  return `${fmt(rows)} windows written + ${fmt(openRows)} open = ${fmt(expectedPairs)} (user, window) pairs, none twice; counts ${fmt(counted)} + ${fmt(openCounted)} open + ${late} late = N`
}

/** One row per distinct id (ids 0..D-1), the duplicates filtered, and the batches counted all N records. */
async function verifyDedup(pool: pg.Pool, schema: string, n: number, m: RunMeasure): Promise<string> {
  const distinct = duplicatedDistinct(n)
  const c = await checkTable(pool, schema, distinct)
  const tracked = await trackedRecords(pool, schema)
  const state = num(await row(pool, `SELECT count(*) AS n FROM "${schema}".sluice_keyed_state`), 'n')
  const problems = [
    c.ok ? '' : `rows ${c.rows}, distinct ids ${c.distinct}, ids ${c.min}..${c.max} (expected ${distinct}, ${distinct}, 0..${distinct - 1})`,
    tracked !== n ? `batch_tracker counts ${tracked} records, expected ${n}` : '',
    m.filtered !== n - distinct ? `batches filtered ${m.filtered} duplicates, expected ${n - distinct}` : '',
    m.late !== 0 ? `${m.late} records late` : '',
  ].filter(Boolean)
  if (problems.length) throw new Error(`dedup check failed: ${problems.join('; ')}`)
  return `${fmt(c.rows)} rows = distinct ids, ${fmt(m.filtered)} duplicates filtered, batch_tracker ${fmt(tracked)} = N; ${fmt(state)} keys remembered at the end`
}
