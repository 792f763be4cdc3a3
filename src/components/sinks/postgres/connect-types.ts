/**
 * PostgreSQL column types for Kafka Connect schemas (api/connect-schema.ts), as a JDBC sink would
 * create them: for table creation and evolution from the schema of Connect-envelope records.
 *
 * - Connect's types: int8/int16 smallint, int32 integer, int64 bigint, float32 real, float64 double
 *   precision, boolean, string text, bytes bytea; struct, map and array jsonb (one column holds the
 *   nested value; a column mapping flattens what should be columns).
 * - Connect's logical types: Decimal numeric(precision, scale) (numeric(scale) needs a precision:
 *   without `connect.decimal.precision` it is numeric, unconstrained), Timestamp timestamptz (an
 *   instant: milliseconds since the epoch, UTC), Date date, Time time.
 * - Debezium's: io.debezium.time.Date date; Time/MicroTime/NanoTime time; Timestamp/MicroTimestamp/
 *   NanoTimestamp timestamp (a zone-less database value); ZonedTimestamp timestamptz; ZonedTime
 *   timetz; Year integer; MicroDuration interval; io.debezium.data.VariableScaleDecimal numeric;
 *   Json jsonb; Uuid uuid; Xml xml; Enum text; Bits bit varying.
 * A logical name not listed falls back to its Connect type. Only types are chosen here: a value in
 * a logical type's encoding (days for a Date, base64 for a Decimal's bytes) is converted where the
 * envelope is decoded, with the record's schema (engine/connect-logical.ts), so it fits these columns.
 */
import type { ConnectSchema, ConnectType } from '../../../api/connect-schema.ts'
import { setField } from '../../../api/record.ts'
import { SluiceError } from '../../../errors.ts'

const BY_TYPE: Readonly<Record<ConnectType, string>> = {
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

const BY_LOGICAL_NAME: Readonly<Record<string, string>> = {
  'org.apache.kafka.connect.data.Timestamp': 'timestamptz',
  'org.apache.kafka.connect.data.Date': 'date',
  'org.apache.kafka.connect.data.Time': 'time',
  'io.debezium.time.Date': 'date',
  'io.debezium.time.Time': 'time',
  'io.debezium.time.MicroTime': 'time',
  'io.debezium.time.NanoTime': 'time',
  'io.debezium.time.Timestamp': 'timestamp',
  'io.debezium.time.MicroTimestamp': 'timestamp',
  'io.debezium.time.NanoTimestamp': 'timestamp',
  'io.debezium.time.ZonedTimestamp': 'timestamptz',
  'io.debezium.time.ZonedTime': 'timetz',
  'io.debezium.time.Year': 'integer',
  'io.debezium.time.MicroDuration': 'interval',
  'io.debezium.data.VariableScaleDecimal': 'numeric',
  'io.debezium.data.Json': 'jsonb',
  'io.debezium.data.Uuid': 'uuid',
  'io.debezium.data.Xml': 'xml',
  'io.debezium.data.Enum': 'text',
  'io.debezium.data.Bits': 'bit varying',
}

const DECIMAL = 'org.apache.kafka.connect.data.Decimal'

/** The column type of one Connect schema. */
export function connectColumnType(schema: ConnectSchema): string {
  if (schema.name === DECIMAL) return decimalType(schema)
  return (schema.name !== undefined && Object.hasOwn(BY_LOGICAL_NAME, schema.name) ? BY_LOGICAL_NAME[schema.name] : undefined) ?? BY_TYPE[schema.type]
}

/** numeric(p, s) from Connect's parameters (`scale`, and `connect.decimal.precision` as Connect's JDBC sinks read it). */
function decimalType(schema: ConnectSchema): string {
  const scale = Number(schema.parameters?.['scale'])
  const precision = Number(schema.parameters?.['connect.decimal.precision'])
  if (Number.isInteger(precision) && precision >= 1 && precision <= 1000 && Number.isInteger(scale) && scale >= 0 && scale <= precision) return `numeric(${precision},${scale})`
  return 'numeric'
}

/** Column name -> type for the fields of a struct schema (a record's value schema), in field order. */
export function connectTableColumns(schema: ConnectSchema): Record<string, string> {
  if (schema.type !== 'struct' || schema.fields === undefined) {
    throw new SluiceError('SINK_SCHEMA', `a table's columns come from a struct schema, not from ${schema.type}${schema.name ? ` (${schema.name})` : ''}`)
  }
  const out: Record<string, string> = {}
  for (const f of schema.fields) if (f.field !== undefined) setField(out, f.field, connectColumnType(f))
  return out
}
