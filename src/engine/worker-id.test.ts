import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { workerId } from './worker-id.ts'

test('a worker is host:pid unless SLUICE_WORKER_ID names it', () => {
  assert.equal(workerId({}), `${hostname()}:${process.pid}`)
  assert.equal(workerId({ SLUICE_WORKER_ID: ' sluice-7f9c-abcde ' }), 'sluice-7f9c-abcde')
  assert.equal(workerId({ SLUICE_WORKER_ID: '  ' }), `${hostname()}:${process.pid}`)
})
