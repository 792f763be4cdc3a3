import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CheckpointLog } from './checkpoint.ts'

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
  return Number(child.stdout.trim())
}

test('the checkpoint folder is 0700 and its files 0600 even under umask 000', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-ckpt-'))
  t.after(() => rm(base, { recursive: true, force: true }))
  const previous = process.umask(0)
  t.after(() => process.umask(previous))
  const log = new CheckpointLog(join(base, 'a', 'b', 'ckpt'))
  await log.init('p')
  await log.writePlanned({ batchId: 0, start: {}, end: { x: '1' }, watermarkMs: null, plannedAt: new Date(0).toISOString() })
  await log.writeCommitted({ batchId: 0, nextWatermarkMs: null, end: { x: '1' } })
  const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777
  for (const dir of ['a', 'a/b', 'a/b/ckpt', 'a/b/ckpt/offsets', 'a/b/ckpt/commits']) assert.equal((await mode(join(base, dir))).toString(8), '700', dir)
  for (const file of ['metadata', 'offsets/0', 'commits/0']) assert.equal((await mode(join(base, 'a/b/ckpt', file))).toString(8), '600', file)
})

test('temporary files of a process that died are removed at the next start; a live writer keeps its own', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-ckpt-'))
  t.after(() => rm(base, { recursive: true, force: true }))
  const location = join(base, 'ckpt')
  await new CheckpointLog(location).init('p')
  const dead = deadPid()
  await writeFile(join(location, 'offsets', `7.${dead}.tmp`), '{"half')
  await writeFile(join(location, 'commits', `6.${dead}.tmp`), '')
  await writeFile(join(location, `metadata.${dead}.tmp`), '')
  await writeFile(join(location, 'offsets', `8.${process.ppid}.tmp`), '') // a live process's (the test runner's)
  await writeFile(join(location, 'offsets', `9.${process.pid}.tmp`), '') // ours, from an earlier life of this pid
  await new CheckpointLog(location).init('p')
  assert.deepEqual((await readdir(join(location, 'offsets'))).sort(), [`8.${process.ppid}.tmp`])
  assert.deepEqual(await readdir(join(location, 'commits')), [])
  assert.deepEqual(await readdir(location), ['commits', 'metadata', 'offsets'])
})
