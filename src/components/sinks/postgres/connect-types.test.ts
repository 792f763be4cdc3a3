import { test } from 'node:test'
import assert from 'node:assert/strict'
import { type ConnectSchema, type ConnectType, parseConnectSchema } from '../../../api/connect-schema.ts'
import { isSluiceError } from '../../../errors.ts'
import { connectColumnType, connectTableColumns } from './connect-types.ts'

const type = (t: ConnectType, name?: string, parameters?: Record<string, string>): string =>
  connectColumnType({ type: t, optional: true, ...(name === undefined ? {} : { name }), ...(parameters === undefined ? {} : { parameters }) })

test("Connect's types", () => {
  const expected: Record<ConnectType, string> = {
    int8: 'smallint',
    int16: 'smallint',
    int32: 'integer',
    int64: 'bigint',
    float32: 'real',
    float64: 'double precision',
    boolean: 'boolean',
    string: 'text',
    bytes: 'bytea',
    array: 'jsonb',
    map: 'jsonb',
    struct: 'jsonb',
  }
  for (const [t, pg] of Object.entries(expected)) assert.equal(type(t as ConnectType), pg, t)
})

test("Connect's logical types: Decimal with and without a precision, Timestamp, Date, Time", () => {
  assert.equal(type('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '2', 'connect.decimal.precision': '10' }), 'numeric(10,2)')
  assert.equal(type('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '2' }), 'numeric')
  assert.equal(type('bytes', 'org.apache.kafka.connect.data.Decimal', { scale: '12', 'connect.decimal.precision': '10' }), 'numeric')
  assert.equal(type('int64', 'org.apache.kafka.connect.data.Timestamp'), 'timestamptz')
  assert.equal(type('int32', 'org.apache.kafka.connect.data.Date'), 'date')
  assert.equal(type('int32', 'org.apache.kafka.connect.data.Time'), 'time')
})

test("Debezium's logical types; an unknown name falls back to the Connect type", () => {
  const cases: [ConnectType, string, string][] = [
    ['int32', 'io.debezium.time.Date', 'date'],
    ['int32', 'io.debezium.time.Time', 'time'],
    ['int64', 'io.debezium.time.MicroTime', 'time'],
    ['int64', 'io.debezium.time.NanoTime', 'time'],
    ['int64', 'io.debezium.time.Timestamp', 'timestamp'],
    ['int64', 'io.debezium.time.MicroTimestamp', 'timestamp'],
    ['int64', 'io.debezium.time.NanoTimestamp', 'timestamp'],
    ['string', 'io.debezium.time.ZonedTimestamp', 'timestamptz'],
    ['string', 'io.debezium.time.ZonedTime', 'timetz'],
    ['int32', 'io.debezium.time.Year', 'integer'],
    ['int64', 'io.debezium.time.MicroDuration', 'interval'],
    ['struct', 'io.debezium.data.VariableScaleDecimal', 'numeric'],
    ['string', 'io.debezium.data.Json', 'jsonb'],
    ['string', 'io.debezium.data.Uuid', 'uuid'],
    ['string', 'io.debezium.data.Xml', 'xml'],
    ['string', 'io.debezium.data.Enum', 'text'],
    ['bytes', 'io.debezium.data.Bits', 'bit varying'],
    ['int64', 'com.example.Unknown', 'bigint'],
    ['string', 'toString', 'text'],
  ]
  for (const [t, name, pg] of cases) assert.equal(type(t, name), pg, name)
})

test("a struct schema's fields become the table's columns, in order", () => {
  const schema = parseConnectSchema({
    type: 'struct',
    fields: [
      { type: 'int64', optional: false, field: 'id' },
      { type: 'string', optional: true, field: 'name' },
      { type: 'int64', optional: true, name: 'org.apache.kafka.connect.data.Timestamp', field: 'created_at' },
      { type: 'struct', optional: true, fields: [{ type: 'string', field: 'city' }], field: 'address' },
    ],
  }) as ConnectSchema
  assert.deepEqual(Object.entries(connectTableColumns(schema)), [
    ['id', 'bigint'],
    ['name', 'text'],
    ['created_at', 'timestamptz'],
    ['address', 'jsonb'],
  ])
  assert.throws(() => connectTableColumns({ type: 'string', optional: false }), (err) => isSluiceError(err, 'SINK_SCHEMA'))
})
