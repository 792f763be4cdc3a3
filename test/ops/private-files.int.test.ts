/**
 * Sluice's files are private whatever the umask: run the real CLI under `umask 000` on an embedded
 * database (PGlite) and a checkpoint folder, and check every folder (0700) and file (0600) it
 * created, the lock file included, while it runs and after it stopped. Also: checkpoint temporary
 * files left by a killed process are removed when the next process starts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cliPath, runSluice, startCommand, waitForOutput, writePipeline } from '../helpers/cli.ts'

/** Every path under `root` (itself included) whose permission bits are not 0700 (folders) / 0600 (files). */
async function notPrivate(root: string): Promise<string[]> {
  const bad: string[] = []
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path)
    const mode = info.mode & 0o777
    if (info.isDirectory()) {
      if (mode !== 0o700) bad.push(`${path} ${mode.toString(8)}`)
      for (const name of await readdir(path)) await walk(join(path, name))
    } else if (mode !== 0o600) bad.push(`${path} ${mode.toString(8)}`)
  }
  await walk(root)
  return bad
}

async function countFiles(root: string): Promise<number> {
  let n = 0
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) if (entry.isFile()) n++
  return n
}

function pipeline(dir: string, trigger: string): Record<string, unknown> {
  return {
    pipelineId: 'private-files',
    mode: 'streaming',
    extract: { sourceType: 'file', path: join(dir, 'in'), format: 'json', stableMs: 0 },
    load: { sinkType: 'postgresql', table: 'events', writeMode: 'append', schemaName: 'events-table', connectionParams: { url: `pglite://${join(dir, 'state', 'db', 'events')}` } },
    schemaDir: '.',
    streamingConfigJson: { checkpointLocation: join(dir, 'state', 'checkpoints', 'events'), queryName: 'private-files', triggerMode: trigger },
  }
}

test('under umask 000 the embedded database, the checkpoint folder and the lock file are owner-only', async () => {
  const tableSchema = JSON.stringify({ columns: { id: 'bigint', name: 'text' } })
  const { file, dir } = await writePipeline((d: string) => pipeline(d, 'processingtime=200 ms'), { 'events-table.json': tableSchema })
  await mkdir(join(dir, 'in'))
  await writeFile(join(dir, 'in', 'a.ndjson'), '{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n')
  assert.equal(spawnSync('sh', ['-c', 'umask 000; touch "$1/probe"', 'sh', dir]).status, 0)
  assert.equal((await stat(join(dir, 'probe'))).mode & 0o777, 0o666, 'the shell really runs with umask 000')

  const running = startCommand(['sh', '-c', 'umask 000; exec "$@"', 'sh', process.execPath, cliPath, 'run', file])
  const state = join(dir, 'state')
  try {
    await waitForOutput(running, (o) => o.includes('batch committed'), 120_000)
    assert.ok((await stat(join(state, 'db', 'events.lock'))).isFile(), 'the lock file exists while running')
    assert.ok((await countFiles(state)) > 100, 'PGlite wrote its data folder')
    assert.deepEqual(await notPrivate(state), [], 'while running')
    // Files PGlite creates later (a new table's relation files) are private too.
    await writeFile(join(dir, 'in', 'b.ndjson'), '{"id":3,"name":"c"}\n')
    await waitForOutput(running, (o) => (o.match(/batch committed/g) ?? []).length >= 2, 60_000)
    assert.deepEqual(await notPrivate(state), [], 'after a second batch')
  } finally {
    running.child.kill('SIGTERM')
  }
  const result = await running.done
  assert.equal(result.code, 0, result.stderr.slice(-3000))
  assert.deepEqual(await notPrivate(state), [], 'after a clean stop')
})

test('checkpoint temporary files of a killed process are removed at the next start (real CLI)', async () => {
  const tableSchema = JSON.stringify({ columns: { id: 'bigint', name: 'text' } })
  const { file, dir } = await writePipeline((d: string) => pipeline(d, 'availablenow'), { 'events-table.json': tableSchema })
  await mkdir(join(dir, 'in'))
  await writeFile(join(dir, 'in', 'a.ndjson'), '{"id":1,"name":"a"}\n')
  const first = await runSluice(['run', file])
  assert.equal(first.code, 0, first.stderr.slice(-3000))
  const checkpoint = join(dir, 'state', 'checkpoints', 'events')
  const dead = Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim())
  await writeFile(join(checkpoint, 'offsets', `1.${dead}.tmp`), '{"batchId":1,"sta')
  await writeFile(join(checkpoint, 'commits', `0.${dead}.tmp`), '')
  const second = await runSluice(['run', file])
  assert.equal(second.code, 0, second.stderr.slice(-3000))
  const left = [...(await readdir(join(checkpoint, 'offsets'))), ...(await readdir(join(checkpoint, 'commits')))].filter((n) => n.endsWith('.tmp'))
  assert.deepEqual(left, [])
})
