/**
 * Kafka Connect's JsonConverter envelope (`extract.envelope: "connect"`): with schemas.enable=true a
 * Connect source, or Debezium, writes every value as `{"schema": {...}, "payload": ...}`, and the
 * record is the payload. The envelope is configured, never guessed: a plain record may have fields
 * named `schema` and `payload`. A value that lacks `payload` is a bad record (RECORD_DECODE with this
 * reason); the schema is kept raw beside the payload (api/connect-schema.ts parses it when wanted),
 * so the per-record cost is one field lookup.
 */

/** An unwrapped envelope: the payload (the record) and the raw schema (null when Connect wrote none). */
export interface ConnectEnvelope {
  readonly payload: unknown
  readonly schema: unknown
}

/** Unwraps a parsed JSON value, or says why it is not a Connect envelope. */
export function unwrapConnect(value: unknown): ConnectEnvelope | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `value is not a Kafka Connect envelope (extract.envelope "connect"): JSON ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}, not an object {"schema": ..., "payload": ...}`
  }
  const o = value as Record<string, unknown>
  if (!Object.hasOwn(o, 'payload')) {
    const keys = Object.keys(o).slice(0, 5).map((k) => JSON.stringify(k)).join(', ')
    return `value is not a Kafka Connect envelope (extract.envelope "connect"): it has no "payload" field (its fields: ${keys || 'none'})`
  }
  return { payload: o['payload'], schema: Object.hasOwn(o, 'schema') ? o['schema'] : null }
}
