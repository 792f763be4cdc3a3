import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConnectSchema } from './connect-schema.ts'

test("a JsonConverter schema parses: struct fields, logical names, parameters, array items and map parts", () => {
  const s = parseConnectSchema({
    type: 'struct',
    name: 'shop.orders.Value',
    optional: false,
    fields: [
      { type: 'int64', optional: false, field: 'id' },
      { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '10' }, field: 'amount' },
      { type: 'array', optional: true, items: { type: 'string', optional: false }, field: 'tags' },
      { type: 'map', optional: true, keys: { type: 'string', optional: false }, values: { type: 'int32', optional: true }, field: 'counts' },
    ],
  })
  assert.ok(!('error' in s))
  assert.equal(s.type, 'struct')
  assert.equal(s.fields?.[1]?.name, 'org.apache.kafka.connect.data.Decimal')
  assert.deepEqual(s.fields?.[1]?.parameters, { scale: '2', 'connect.decimal.precision': '10' })
  assert.equal(s.fields?.[0]?.optional, false)
  assert.equal(s.fields?.[2]?.items?.type, 'string')
  assert.equal(s.fields?.[3]?.values?.type, 'int32')
})

test('a malformed schema says where', () => {
  const error = (json: unknown): string => {
    const s = parseConnectSchema(json)
    return 'error' in s ? s.error : ''
  }
  assert.match(error('x'), /^schema is not an object/)
  assert.match(error({ type: 'varchar' }), /schema.type is "varchar": must be one of int8, /)
  assert.match(error({ type: 'struct' }), /schema.fields must be a list/)
  assert.match(error({ type: 'struct', fields: [{ type: 'int32' }] }), /schema.fields\[0\] has no "field" name/)
  assert.match(error({ type: 'struct', fields: [{ type: 'array', field: 'a' }] }), /schema.fields\[0\].items is not an object/)
})
