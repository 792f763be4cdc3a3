/**
 * Kafka Connect's schema, as its JsonConverter writes it beside the payload
 * (`{"schema": {"type": "struct", "fields": [{"field": "id", "type": "int64", "optional": false}, ...]}, "payload": ...}`):
 * parsed here so that the sink can choose column types from it (components/sinks/postgres/connect-types.ts)
 * and table creation and evolution can use it. Only the shape is checked; what the types mean is the sink's.
 */

/** Connect's schema types (org.apache.kafka.connect.data.Schema.Type, lower case as JSON has them). */
export const CONNECT_TYPES = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string', 'bytes', 'array', 'map', 'struct'] as const
export type ConnectType = (typeof CONNECT_TYPES)[number]

/** One parsed Connect schema (a struct's fields are schemas with a `field` name). */
export interface ConnectSchema {
  readonly type: ConnectType
  readonly optional: boolean
  /** The logical type, e.g. org.apache.kafka.connect.data.Decimal, io.debezium.time.MicroTimestamp. */
  readonly name?: string
  readonly parameters?: Readonly<Record<string, string>>
  /** The field name, for a struct's fields. */
  readonly field?: string
  readonly fields?: readonly ConnectSchema[]
  readonly items?: ConnectSchema
  readonly keys?: ConnectSchema
  readonly values?: ConnectSchema
}

/** Parses the `schema` part of an envelope, or says what is wrong with it (`at` is where, for nested ones). */
export function parseConnectSchema(json: unknown, at = 'schema'): ConnectSchema | { readonly error: string } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { error: `${at} is not an object` }
  const o = json as Record<string, unknown>
  const type = o['type']
  if (typeof type !== 'string' || !(CONNECT_TYPES as readonly string[]).includes(type)) {
    return { error: `${at}.type is ${JSON.stringify(type) ?? 'missing'}: must be one of ${CONNECT_TYPES.join(', ')}` }
  }
  const out: { -readonly [K in keyof ConnectSchema]: ConnectSchema[K] } = { type: type as ConnectType, optional: o['optional'] === true }
  if (typeof o['name'] === 'string') out.name = o['name']
  if (typeof o['field'] === 'string') out.field = o['field']
  const params = o['parameters']
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    out.parameters = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]))
  }
  if (type === 'struct') {
    const fields = o['fields']
    if (!Array.isArray(fields)) return { error: `${at}.fields must be a list for a struct` }
    const parsed: ConnectSchema[] = []
    for (const [i, f] of fields.entries()) {
      const p = parseConnectSchema(f, `${at}.fields[${i}]`)
      if ('error' in p) return p
      if (p.field === undefined) return { error: `${at}.fields[${i}] has no "field" name` }
      parsed.push(p)
    }
    out.fields = parsed
  }
  for (const part of type === 'array' ? (['items'] as const) : type === 'map' ? (['keys', 'values'] as const) : []) {
    const p = parseConnectSchema(o[part], `${at}.${part}`)
    if ('error' in p) return p
    out[part] = p
  }
  return out
}
