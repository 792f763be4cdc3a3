import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { resetBy } from './reset.ts'

test('resetBy names the login, the host and the pid, from the environment (no passwd lookup that could throw)', () => {
  assert.equal(resetBy({ USER: 'ops', LOGNAME: 'other' }), `ops@${hostname()} pid ${process.pid}`)
  assert.equal(resetBy({ LOGNAME: 'svc' }), `svc@${hostname()} pid ${process.pid}`)
  assert.match(resetBy({}), new RegExp(`^uid \\d+@${hostname()} pid ${process.pid}$`))
})
