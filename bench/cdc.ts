/**
 * The change-stream scenario (issue 14, "Benchmark"): 1M Debezium change events (65 % creates,
 * 30 % updates, 5 % deletes; bench/events.ts CDC) applied by key with `envelope: "debezium"`,
 * upsert on id into `events`, exactly once. Checked against the final table the events must give,
 * computed by replaying them (cdcFinal), row for row, before its figure is printed.
 */
import type pg from 'pg'
import { CDC, cdcFinal, notePrefix } from './events.ts'
import { trackedRecords } from './pg.ts'
import type { RunMeasure, Scenario } from './sluice.ts'

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US')

export const cdc: Scenario = {
  name: 'exactly-once Debezium change stream (30 % updates, 5 % deletes)',
  writeMode: 'upsert',
  exactlyOnce: true,
  shape: CDC,
  pipeline: { extract: { envelope: 'debezium' } },
  verify: verifyCdc,
}

/**
 * The table equals the expected final state exactly: the expected (id, version) pairs are loaded
 * into `cdc_expected` beside it, and a full join on id counts ids missing, ids extra, and rows whose
 * columns are not those of their version's event (each column is a function of the version: user,
 * kind, amount, event time, note); all three must be 0 and the row count the expected one. The
 * batches (log lines, checked by run.ts) and batch_tracker both count N records.
 */
async function verifyCdc(pool: pg.Pool, schema: string, n: number, _m: RunMeasure, partitions: number): Promise<string> {
  const expected = cdcFinal(n, partitions)
  await pool.query(`CREATE TABLE "${schema}".cdc_expected (id bigint PRIMARY KEY, v bigint NOT NULL)`)
  const chunk = 100_000
  for (let lo = 0; lo < expected.ids.length; lo += chunk) {
    await pool.query(`INSERT INTO "${schema}".cdc_expected (id, v) SELECT * FROM unnest($1::bigint[], $2::bigint[])`, [
      expected.ids.slice(lo, lo + chunk),
      expected.versions.slice(lo, lo + chunk),
    ])
  }
  const { rows } = await pool.query<{ rows: string; missing: string; extra: string; wrong: string }>(
    `SELECT (SELECT count(*) FROM "${schema}".events) AS rows,
            count(*) FILTER (WHERE e.id IS NULL) AS missing,
            count(*) FILTER (WHERE x.id IS NULL) AS extra,
            count(*) FILTER (WHERE e.id IS NOT NULL AND x.id IS NOT NULL AND (
              e.user_id IS DISTINCT FROM 'user-' || (x.v % 9973)
              OR e.kind IS DISTINCT FROM (ARRAY['click', 'view', 'buy'])[x.v % 3 + 1]
              OR e.amount IS DISTINCT FROM (x.v % 100000) / 100.0
              OR e.event_time IS DISTINCT FROM timestamptz '2026-01-01T00:00:00Z' + x.v * interval '10 milliseconds'
              OR e.note IS DISTINCT FROM $1 || '-' || x.v)) AS wrong
       FROM "${schema}".events e FULL JOIN "${schema}".cdc_expected x ON x.id = e.id`,
    [notePrefix()],
  )
  const r = rows[0]
  const [count, missing, extra, wrong] = [Number(r?.rows), Number(r?.missing), Number(r?.extra), Number(r?.wrong)]
  const tracked = await trackedRecords(pool, schema)
  const problems = [
    count !== expected.ids.length ? `${count} rows, expected ${expected.ids.length}` : '',
    missing !== 0 ? `${missing} expected ids missing` : '',
    extra !== 0 ? `${extra} ids that should not be there (deleted or never created)` : '',
    wrong !== 0 ? `${wrong} rows not holding their last create or update` : '',
    tracked !== n ? `batch_tracker counts ${tracked} records, expected ${n}` : '',
  ].filter(Boolean)
  if (problems.length) throw new Error(`change-stream check failed: ${problems.join('; ')}`)
  return `${fmt(count)} rows = the final state of ${fmt(expected.creates)} creates, ${fmt(expected.updates)} updates, ${fmt(expected.deletes)} deletes, row for row (0 missing, 0 extra, 0 stale); batch_tracker ${fmt(tracked)} = N`
}
