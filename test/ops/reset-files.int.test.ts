/**
 * `sluice reset` of a file pipeline, through the CLI: into a PostgreSQL server, `earliest` reads the
 * files still in the folder again, a position map forgets single files or marks them done, `latest`
 * skips the files there now, and a time is refused saying what is allowed; into the embedded
 * database (PGlite), a reset is refused while a `sluice run` has it open (its lock file), and goes
 * through once the run stopped.
 */
import assert from 'node:assert/strict'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { type CliResult, runSluice, startSluice, waitForOutput, writePipeline } from '../helpers/cli.ts'
import { EVENTS_DDL, events } from '../e2e/fixtures.ts'
import type { Report } from './reset-support.ts'

const PER_FILE = 10

/** Writes file `n` (ids n*10 .. n*10+9), renamed into place as a producer would. */
async function writeEventsFile(dir: string, n: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.f${n}.tmp`)
  await writeFile(tmp, `${events(PER_FILE, n * PER_FILE).map((e) => e.value).join('\n')}\n`)
  await rename(tmp, join(dir, `f${n}.ndjson`))
}

function filePipeline(dir: string, pipelineId: string, load: Record<string, unknown>, trigger = 'availablenow', streaming: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pipelineId,
    mode: 'streaming',
    extract: { sourceType: 'file', path: join(dir, 'in'), format: 'json', pattern: '*.ndjson', stableMs: 0 },
    load: { sinkType: 'postgresql', table: 'events', writeMode: 'append', ...load },
    streamingConfigJson: { checkpointLocation: join(dir, 'checkpoint'), queryName: pipelineId, triggerMode: trigger, ...streaming },
  }
}

function json(r: CliResult): Report {
  assert.equal(r.code, 0, r.stdout + r.stderr)
  return JSON.parse(r.stdout) as Report
}

describe('sluice reset, file source', () => {
  let s: TestSchema
  after(async () => {
    await s?.drop()
  })

  test('PostgreSQL server: earliest, a position map and latest move the done marks; a time is refused', async () => {
    s = await createTestSchema('rst')
    await s.pool.query(EVENTS_DDL)
    const pg = pgSettings()
    const pipelineId = `rst_files_${s.schema}`
    const load = { connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema } }
    // With a watermark, which a reset clears unless --keep-watermark.
    const { file, dir } = await writePipeline((d: string) => filePipeline(d, pipelineId, load, 'availablenow', { watermark: { eventTimeColumn: 'event_time', delayThreshold: '1 minute' } }))
    const input = join(dir, 'in')
    for (const n of [0, 1, 2]) await writeEventsFile(input, n)
    const rows = async (): Promise<number> => Number((await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n)
    const run = async (): Promise<void> => {
      const r = await runSluice(['run', file])
      assert.equal(r.code, 0, r.stderr.slice(-3000))
    }
    await run()
    assert.equal(await rows(), 30)

    const stored = async (): Promise<string[]> => (await s.pool.query<{ k: string }>('SELECT partition_key AS k FROM sluice_source_positions WHERE pipeline_id = $1 ORDER BY 1', [pipelineId])).rows.map((r) => r.k)
    assert.deepEqual(await stored(), ['file:f0.ndjson', 'file:f1.ndjson', 'file:f2.ndjson'])
    const earliest = await runSluice(['reset', file, '--to', 'earliest'])
    assert.equal(earliest.code, 0, earliest.stderr)
    assert.match(earliest.stdout, new RegExp(`^${pipelineId}: reset to earliest in postgres://.*: 3 partition\\(s\\) moved, recorded as batch 1\n`))
    assert.match(earliest.stdout, /\nfile:f0.ndjson +done +-\n/)
    assert.match(earliest.stdout, /\nwatermark {2}\d{4}-\d\d-\d\dT[\d:.]+Z -> none\n/)
    assert.deepEqual(await stored(), [], 'every file forgotten')
    await run()
    assert.equal(await rows(), 60, 'every file read again')

    json(await runSluice(['reset', file, '--to', JSON.stringify({ 'file:f1.ndjson': null }), '--json']))
    await run()
    assert.equal(await rows(), 70, 'only f1 again')

    await writeEventsFile(input, 3)
    const latest = json(await runSluice(['reset', file, '--to', 'latest', '--json']))
    assert.deepEqual(latest.partitions.filter((p) => p.changed).map((p) => [p.partition, p.before, p.after]), [['file:f3.ndjson', null, 'done']])
    const again = await runSluice(['reset', file, '--to', 'latest', '--keep-watermark'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, new RegExp(`^${pipelineId}: nothing to change: every partition already stands at latest\n`))
    assert.match(again.stdout, /file:f3.ndjson +done +done {2}\(unchanged\)/)
    await writeEventsFile(input, 4)
    await run()
    assert.equal(await rows(), 80, 'f3 skipped, f4 read')
    const { rows: f4 } = await s.pool.query<{ min: string }>('SELECT min(id)::text AS min FROM events WHERE id >= 30')
    assert.equal(f4[0]?.min, '40')

    const time = await runSluice(['reset', file, '--to', '2026-01-01T00:00:00Z'])
    assert.equal(time.code, 1)
    assert.match(time.stderr, /RESET_REFUSED: the file source cannot be reset to a time .* use earliest, latest, or a position map/)
    const bad = await runSluice(['reset', file, '--to', '{"file:f0.ndjson": 3}'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /--to at "file:f0.ndjson": "3" is not a file position/)
  })

  test('embedded database: refused while a sluice run has it open (PIPELINE_RUNNING), then done', async () => {
    const { file, dir } = await writePipeline(
      (d: string) => ({ ...filePipeline(d, 'rst_embedded', { schemaName: 'events-table', connectionParams: { url: `pglite://${join(d, 'db')}` } }, 'continuous'), schemaDir: '.' }),
      { 'events-table.json': JSON.stringify({ columns: { id: 'bigint', user_id: 'text', kind: 'text', amount: 'numeric', event_time: 'timestamptz', note: 'text' } }) },
    )
    await writeEventsFile(join(dir, 'in'), 0)
    const worker = startSluice(['run', file])
    try {
      await waitForOutput(worker, (out) => out.includes('batch committed'), 90_000)
      const refused = await runSluice(['reset', file, '--to', 'earliest', '--json'])
      assert.equal(refused.code, 1, refused.stdout + refused.stderr)
      const error = (JSON.parse(refused.stdout) as { error: { code: string; message: string } }).error
      assert.equal(error.code, 'PIPELINE_RUNNING')
      assert.match(error.message, new RegExp(`is in use by process ${worker.child.pid}.*a sluice run of rst_embedded may be using it`))
    } finally {
      worker.child.kill('SIGTERM')
    }
    assert.equal((await worker.done).code, 0)
    const done = json(await runSluice(['reset', file, '--to', 'earliest', '--json']))
    assert.equal(done.applied, true)
    assert.deepEqual(done.partitions.map((p) => [p.partition, p.after]), [['file:f0.ndjson', null]])
  })
})
