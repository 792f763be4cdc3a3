/**
 * The README's first command: the quickstart pipeline runs from a clean copy with no PostgreSQL
 * or Kafka settings in the environment (embedded PGlite), and its results are what the data set
 * was built to produce: 4,010 records = 4,000 rows + 5 dead letters + 5 late records, 4 batches.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cliPath } from '../helpers/cli.ts'

const example = fileURLToPath(new URL('../../examples/quickstart', import.meta.url))

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG') && !k.startsWith('KAFKA')) env[k] = v
  return env
}

function sluice(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: cleanEnv() })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function query(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const r = await sluice(['sql', 'pipeline.json', sql, '--json'], dir)
  assert.equal(r.code, 0, r.stderr + r.stdout)
  return JSON.parse(r.stdout) as Record<string, unknown>[]
}

test('the quickstart loads its data set into embedded PostgreSQL with the DLQ and late figures', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-quickstart-'))
  await cp(example, dir, { recursive: true, filter: (src) => !src.includes('.sluice') })
  const run = await sluice(['run', 'pipeline.json', '--json'], dir)
  assert.equal(run.code, 0, run.stderr.slice(-3000))
  const summary = JSON.parse(run.stdout) as { queries: { summary: { batches: number; recordsRead: number; written: number; dlq: number; late: number } }[] }
  assert.deepEqual(
    { ...summary.queries[0]?.summary },
    { ...summary.queries[0]?.summary, batches: 4, recordsRead: 4010, written: 4000, dlq: 5, late: 5 },
  )
  const [counts] = await query(
    dir,
    `SELECT (SELECT count(*) FROM clicks) AS rows, (SELECT count(DISTINCT click_id) FROM clicks) AS ids,
            (SELECT count(*) FROM clicks_dlq) AS dlq, (SELECT count(*) FROM clicks_late) AS late,
            (SELECT count(*) FROM batch_tracker) AS batches, (SELECT sum(record_count)::int FROM batch_tracker) AS tracked`,
  )
  assert.deepEqual(counts, { rows: 4000, ids: 4000, dlq: 5, late: 5, batches: 4, tracked: 4010 })
  const codes = await query(dir, 'SELECT "sluice.error.code" AS code, count(*)::int AS n FROM clicks_dlq GROUP BY 1 ORDER BY 1')
  assert.deepEqual(codes, [
    { code: 'RECORD_COLUMN', n: 1 },
    { code: 'RECORD_DECODE', n: 2 },
    { code: 'RECORD_SCHEMA', n: 2 },
  ])
  // Running again loads nothing twice.
  const again = await sluice(['run', 'pipeline.json', '--json'], dir)
  assert.equal(again.code, 0, again.stderr.slice(-2000))
  const [after] = await query(dir, 'SELECT (SELECT count(*) FROM clicks) AS rows, (SELECT count(*) FROM batch_tracker) AS batches')
  assert.deepEqual(after, { rows: 4000, batches: 4 })
})
