import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { isSluiceError } from '../errors.ts'
import { refuseRecount, resetBy } from './reset.ts'

test('resetBy names the login, the host and the pid, from the environment (no passwd lookup that could throw)', () => {
  assert.equal(resetBy({ USER: 'ops', LOGNAME: 'other' }), `ops@${hostname()} pid ${process.pid}`)
  assert.equal(resetBy({ LOGNAME: 'svc' }), `svc@${hostname()} pid ${process.pid}`)
  assert.match(resetBy({}), new RegExp(`^uid \\d+@${hostname()} pid ${process.pid}$`))
})

test('an aggregate pipeline may be reset forward only: moving a partition back would fold its records twice', () => {
  const config = (transform: unknown[]) => ({ pipelineId: 'p', transform }) as unknown as Parameters<typeof refuseRecount>[0]
  const agg = config([{ type: 'aggregate', groupBy: ['u'], aggregations: { n: { fn: 'count' } } }])
  const stored = { 't/0': '100', 't/1': '50' }
  assert.deepEqual(refuseRecount(agg, stored, { 't/0': '150', 't/1': '50', 't/2': '0' }), { 't/0': '150', 't/1': '50', 't/2': '0' })
  assert.throws(() => refuseRecount(agg, stored, { 't/0': '99' }), (e: unknown) => isSluiceError(e, 'RESET_REFUSED') && /moving t\/0 back from 100 to 99 would fold its records/.test(e.message))
  assert.throws(() => refuseRecount(agg, stored, { 't/1': null }), (e: unknown) => isSluiceError(e, 'RESET_REFUSED') && /to its starting offset/.test(e.message))
  // Without an aggregate step anything goes (the exactly-once table takes the records again as new rows, by the user's choice).
  assert.deepEqual(refuseRecount(config([]), stored, { 't/0': '0' }), { 't/0': '0' })
})
