/**
 * The file source and the embedded database under the core crash tests: a folder of NDJSON files
 * loaded with SIGKILL at the points of the commit protocol, into a real PostgreSQL and into embedded
 * PGlite; and files arriving while a continuous pipeline runs.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { runSluice, startSluice, writePipeline } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, events } from './fixtures.ts'

const FILES = 6
const PER_FILE = 1000

async function writeFiles(dir: string, first: number, count: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (let f = first; f < first + count; f++) {
    const lines = events(PER_FILE, f * PER_FILE).map((e) => e.value)
    // Written under a temporary name and renamed into place: the file source never reads half a file.
    const tmp = join(dir, `.events-${String(f).padStart(3, '0')}.ndjson.tmp`)
    await writeFile(tmp, `${lines.join('\n')}\n`)
    await rename(tmp, join(dir, `events-${String(f).padStart(3, '0')}.ndjson`))
  }
}

function filePipeline(dir: string, load: Record<string, unknown>, trigger = 'availablenow'): Record<string, unknown> {
  return {
    pipelineId: 'file-e2e',
    mode: 'streaming',
    extract: { sourceType: 'file', path: join(dir, 'in'), format: 'json', pattern: '*.ndjson', stableMs: 0 },
    load: { sinkType: 'postgresql', table: 'events', writeMode: 'append', ...load },
    streamingConfigJson: { checkpointLocation: join(dir, 'checkpoint'), queryName: 'file-e2e', triggerMode: trigger, maxFilesPerTrigger: 2 },
  }
}

function serverLoad(s: TestSchema): Record<string, unknown> {
  const pg = pgSettings()
  return { connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema } }
}

describe('file source, exactly once', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  for (const point of ['after-plan', 'mid-fetch', 'mid-copy', 'before-commit', 'after-commit', 'before-commit-file']) {
    test(`PostgreSQL server: SIGKILL at ${point} of batch 1, restart: every line once`, async () => {
      const s = await createTestSchema('fs')
      schemas.push(s)
      await s.pool.query(EVENTS_DDL)
      const { file, dir } = await writePipeline((d: string) => filePipeline(d, serverLoad(s)))
      await writeFiles(join(dir, 'in'), 0, FILES)
      const crashed = await runSluice(['run', file], { SLUICE_FAILPOINTS: `${point}@1=kill` })
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr.slice(-2000))
      const restarted = await runSluice(['run', file])
      assert.equal(restarted.code, 0, restarted.stderr.slice(-3000))
      await assertExactlyOnce(s, FILES * PER_FILE)
      assert.equal(await assertTrackerContiguous(s, 'file-e2e', FILES * PER_FILE), FILES / 2, 'two files per batch')
    })
  }

  for (const point of ['mid-copy', 'before-commit', 'after-commit']) {
    test(`embedded PGlite: SIGKILL at ${point} of batch 1, restart: every line once`, async () => {
      const tableSchema = JSON.stringify({ columns: { id: 'bigint', user_id: 'text', kind: 'text', amount: 'numeric', event_time: 'timestamptz', note: 'text' } })
      const { file, dir } = await writePipeline(
        (d: string) => ({ ...filePipeline(d, { schemaName: 'events-table', connectionParams: { url: `pglite://${join(d, 'db')}` } }), schemaDir: '.' }),
        { 'events-table.json': tableSchema },
      )
      await writeFiles(join(dir, 'in'), 0, FILES)
      const ddl = await runSluice(['run', file], { SLUICE_FAILPOINTS: `${point}@1=kill` })
      assert.equal(ddl.signal, 'SIGKILL', ddl.stderr.slice(-2000))
      const restarted = await runSluice(['run', file])
      assert.equal(restarted.code, 0, restarted.stderr.slice(-3000))
      const check = await runSluice(['sql', file, 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM events', '--json'])
      assert.equal(check.code, 0, check.stderr)
      assert.deepEqual(JSON.parse(check.stdout), [{ n: FILES * PER_FILE, d: FILES * PER_FILE }])
      const tracker = await runSluice(['sql', file, 'SELECT batch_id::int AS b, record_count::int AS n FROM batch_tracker ORDER BY 1', '--json'])
      assert.deepEqual(JSON.parse(tracker.stdout), [0, 1, 2].map((b) => ({ b, n: 2 * PER_FILE })))
    })
  }

  test('files arriving while a continuous pipeline runs are each loaded once', async () => {
    const s = await createTestSchema('fs')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    const { file, dir } = await writePipeline((d: string) => filePipeline(d, serverLoad(s), 'continuous'))
    await writeFiles(join(dir, 'in'), 0, 1)
    const running = startSluice(['run', file])
    for (let f = 1; f < FILES; f++) {
      await new Promise((r) => setTimeout(r, 150))
      await writeFiles(join(dir, 'in'), f, 1)
    }
    const deadline = Date.now() + 60_000
    for (;;) {
      const { rows } = await s.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')
      if (Number(rows[0]?.n) === FILES * PER_FILE) break
      assert.ok(Date.now() < deadline, `only ${rows[0]?.n} rows after 60 s\n${running.output().slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-2000))
    await assertExactlyOnce(s, FILES * PER_FILE)
    await assertTrackerContiguous(s, 'file-e2e', FILES * PER_FILE)
  })
})
