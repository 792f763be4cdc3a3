// The last resort of a shutdown: once the batch in flight is cancelled (the shutdown timeout), a
// process that still has not ended (a component holding a connection) exits with code 1. This file
// sends SIGTERM to its own test process, which the graceful handlers turn into a shutdown request.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { nullLogger } from '../api/component.ts'
import { installSignals } from './signals.ts'

test('after the shutdown timeout cancels the batch, a process that does not end exits with 1 after the grace', async () => {
  const exits: number[] = []
  const control = installSignals([1], nullLogger, { graceMs: 100, exit: (code) => void exits.push(code) })
  process.kill(process.pid, 'SIGTERM')
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(control.stop.aborted, true, 'the first signal stops fetching')
  assert.equal(control.abort.aborted, false, 'the batch in flight gets the shutdown timeout (1 s)')
  assert.deepEqual(exits, [])
  await new Promise((r) => setTimeout(r, 1000))
  assert.equal(control.abort.aborted, true, 'cancelled at the timeout')
  await new Promise((r) => setTimeout(r, 300))
  assert.deepEqual(exits, [1], 'still alive 100 ms after the cancellation: exit 1')
  control.dispose()
})
