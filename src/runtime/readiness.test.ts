import { test } from 'node:test'
import assert from 'node:assert/strict'
import { outboxCheck } from './readiness.ts'

test('the outbox check fails only when rows have waited, failing, for longer than stuckAfter', () => {
  const stuckAfter = 60_000
  assert.equal(outboxCheck({ pending: null, failingSinceMs: null, lastError: null }, stuckAfter, 1e6), true, 'no attempt yet')
  assert.equal(outboxCheck({ pending: 0, failingSinceMs: 0, lastError: 'x' }, stuckAfter, 1e6), true, 'nothing waits')
  assert.equal(outboxCheck({ pending: 4, failingSinceMs: null, lastError: null }, stuckAfter, 1e6), true, 'publishing works')
  assert.equal(outboxCheck({ pending: 4, failingSinceMs: 1e6 - 59_000, lastError: 'down' }, stuckAfter, 1e6), true, 'not stuck long enough')
  const failed = outboxCheck({ pending: 4, failingSinceMs: 1e6 - 61_000, lastError: 'Connection refused' }, stuckAfter, 1e6)
  assert.equal(typeof failed, 'string')
  assert.match(String(failed), /4 record\(s\) waiting in the outbox, not published for 61 s: Connection refused/)
})
