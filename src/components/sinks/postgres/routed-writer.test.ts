import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Row } from '../../../api/record.ts'
import { groupRowsByTable } from './routed-writer.ts'
import { tableTemplate } from './table-template.ts'
import { row } from './testing.ts'

function from(topic: string, id: number): Row {
  const r = row({ id }, id)
  return { ...r, source: { ...r.source, topic, partition: `${topic}/0` } }
}

test('rows are grouped by the table of their topic, tables in name order, rows in batch order', () => {
  const rows = [from('b.x', 1), from('a-y', 2), from('b.x', 3), from('A-y', 4), from('a-y', 5)]
  const { groups, misrouted } = groupRowsByTable(tableTemplate('raw_{topic}'), rows)
  assert.deepEqual(misrouted, [])
  assert.deepEqual(
    groups.map((g) => [g.table, g.rows.map((r) => r.values.id)]),
    [
      ['raw_A_y', [4]],
      ['raw_a_y', [2, 5]],
      ['raw_b_x', [1, 3]],
    ],
  )
})

test('two topics that name the same table share it; the schema is kept, quoted when it must be', () => {
  const { groups } = groupRowsByTable(tableTemplate('"my.schema".{topic}'), [from('a.b', 1), from('a-b', 2)])
  assert.deepEqual(groups.map((g) => [g.table, g.rows.length]), [['"my.schema".a_b', 2]])
})

test('rows whose table name is too long are misrouted with RECORD_ROUTE, the others grouped', () => {
  const long = 't'.repeat(60)
  const { groups, misrouted } = groupRowsByTable(tableTemplate('raw_{topic}'), [from(long, 1), from('ok', 2), from(long, 3)])
  assert.deepEqual(groups.map((g) => g.table), ['raw_ok'])
  assert.deepEqual(misrouted.map((m) => [m.row.values.id, m.error.code]), [[1, 'RECORD_ROUTE'], [3, 'RECORD_ROUTE']])
})

test('deletes join the group of their topic\'s table; a table may have deletes only', () => {
  const { groups } = groupRowsByTable(tableTemplate('{topic}'), [from('a', 1)], [
    { key: { id: 2 }, topic: 'a' },
    { key: { id: 3 }, topic: 'c.d' },
  ])
  assert.deepEqual(groups.map((g) => [g.table, g.rows.map((r) => r.values.id), g.deletes]), [
    ['a', [1], [{ id: 2 }]],
    ['c_d', [], [{ id: 3 }]],
  ])
})
