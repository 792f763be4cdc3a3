import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SluiceError } from '../../../errors.ts'
import { isTableTemplate, MAX_IDENTIFIER_BYTES, parseTableTemplate, routedTable, tableTemplate, templateBaseTable, topicPart } from './table-template.ts'

test('a template is a table name holding {topic}', () => {
  assert.equal(isTableTemplate('{topic}'), true)
  assert.equal(isTableTemplate('raw_{topic}'), true)
  assert.equal(isTableTemplate('events'), false)
  assert.equal(isTableTemplate('{Topic}'), false)
})

test('topic characters outside [A-Za-z0-9_] become _, case kept', () => {
  assert.equal(topicPart('orders.v1-eu'), 'orders_v1_eu')
  assert.equal(topicPart('Orders_V2'), 'Orders_V2')
  assert.equal(topicPart('dbserver1.inventory.customers'), 'dbserver1_inventory_customers')
  assert.equal(topicPart('a b/c:d"e\'f'), 'a_b_c_d_e_f')
  // Each UTF-16 unit outside the set is one _: non-ASCII topics stay within one byte per character.
  assert.equal(topicPart('café'), 'caf_')
})

test('the table is the template with {topic} replaced; only the table part is templated', () => {
  assert.deepEqual(routedTable(tableTemplate('{topic}'), 'orders.v1-eu'), { schema: undefined, name: 'orders_v1_eu' })
  assert.deepEqual(routedTable(tableTemplate('raw_{topic}'), 'Users'), { schema: undefined, name: 'raw_Users' })
  assert.deepEqual(routedTable(tableTemplate('myschema.{topic}_v'), 'a.b'), { schema: 'myschema', name: 'a_b_v' })
  assert.deepEqual(routedTable(tableTemplate('"My.Schema"."T_{topic}"'), 'x-y'), { schema: 'My.Schema', name: 'T_x_y' })
  assert.deepEqual(routedTable(tableTemplate('{topic}_{topic}'), 'a-b'), { schema: undefined, name: 'a_b_a_b' })
})

test('a name over 63 bytes is RECORD_ROUTE, 63 bytes is fine', () => {
  const t = tableTemplate('raw_{topic}')
  const fits = 'x'.repeat(MAX_IDENTIFIER_BYTES - 4)
  assert.deepEqual(routedTable(t, fits), { schema: undefined, name: `raw_${fits}` })
  const long = routedTable(t, `${fits}y`)
  assert.ok(long instanceof SluiceError)
  assert.equal(long.code, 'RECORD_ROUTE')
  assert.match(long.message, /of 64 bytes/)
  assert.match(long.message, /at most 63 bytes/)
  assert.deepEqual(long.details, { topic: `${fits}y`, table: `raw_${fits}y`, bytes: 64 })
  // Multi-byte characters of the fixed part count in bytes, as PostgreSQL counts them.
  assert.deepEqual(routedTable(tableTemplate('é{topic}'), 'x'.repeat(61)), { schema: undefined, name: `é${'x'.repeat(61)}` }, 'é is 2 bytes: 2 + 61 = 63 bytes fits')
  const wide = routedTable(tableTemplate('é{topic}'), 'x'.repeat(62))
  assert.ok(wide instanceof SluiceError && wide.code === 'RECORD_ROUTE', '2 + 62 = 64 bytes (63 characters) is too long')
})

test('malformed templates say why', () => {
  const error = (t: string): string => {
    const r = parseTableTemplate(t)
    assert.ok('error' in r, t)
    return r.error
  }
  assert.match(error('{topic}.events'), /templates the schema/)
  assert.match(error('raw_{Topic}_{topic}'), /\{Topic\}: the only placeholder is \{topic\}/)
  assert.match(error('raw_{topics}'), /the only placeholder/)
  assert.match(error(`${'p'.repeat(63)}{topic}`), /fixed part of 63 bytes/)
  assert.match(error('a.b.{topic}'), /more than two parts/)
  assert.throws(() => tableTemplate('{topic}.x'), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /load\.table "\{topic\}\.x"/.test(e.message))
})

test('the default DLQ base reads {topic} as the word topic', () => {
  assert.equal(templateBaseTable('{topic}'), 'topic')
  assert.equal(templateBaseTable('raw_{topic}'), 'raw_topic')
  assert.equal(templateBaseTable('myschema.{topic}'), 'myschema.topic')
})
