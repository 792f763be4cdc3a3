import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSluiceError } from '../errors.ts'
import { withAggregateColumns } from './assemble.ts'

const step = { groupBy: ['user'], aggregations: { n: { fn: 'count' as const }, lo: { fn: 'min' as const, field: 'v' }, mean: { fn: 'avg' as const, field: 'v' } }, window: { column: 'ts', duration: 60_000 } }

test("an aggregate's load schema gains its window, count and hidden avg columns, and its key", () => {
  const done = withAggregateColumns({ columns: { user: 'text', lo: 'numeric', n: 'integer' } }, step, 's')
  assert.deepEqual(done, {
    columns: { user: 'text', lo: 'numeric', n: 'integer', window_start: 'timestamptz', window_end: 'timestamptz', mean: 'double precision', mean__sum: 'numeric', mean__count: 'bigint' },
    primaryKey: ['user', 'window_start'],
  })
  assert.deepEqual(withAggregateColumns({ columns: { user: 'text' }, primaryKey: ['window_start', 'user'] }, step, 's').primaryKey, ['window_start', 'user'])
  assert.throws(() => withAggregateColumns({ columns: { user: 'text' }, primaryKey: ['user'] }, step, 's'), (e) => isSluiceError(e, 'CONFIG_INVALID') && /must be its key \["user","window_start"\]/.test(e.message))
})
