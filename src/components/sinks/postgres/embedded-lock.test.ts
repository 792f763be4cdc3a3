import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SluiceError } from '../../../errors.ts'
import { lockEmbedded } from './embedded-lock.ts'

test('a second process is refused while the owner lives; a dead owner\'s lock is taken over', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'sluice-lock-')), 'db')
  const other = spawn('sleep', ['30'])
  try {
    writeFileSync(`${dir}.lock`, String(other.pid))
    assert.throws(() => lockEmbedded(dir), (e: unknown) => e instanceof SluiceError && e.code === 'SINK_UNAVAILABLE' && !e.retryable && e.message.includes(String(other.pid)))
  } finally {
    other.kill('SIGKILL')
    await new Promise((r) => other.once('exit', r))
  }
  const release = lockEmbedded(dir)
  assert.ok(existsSync(`${dir}.lock`))
  release()
  assert.ok(!existsSync(`${dir}.lock`))
})
