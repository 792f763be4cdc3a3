/**
 * The `envelope` option of the sources whose records are JSON values (kafka, file NDJSON): whether
 * a value is the record itself or Kafka Connect's JsonConverter envelope around it. Shared by those
 * source folders so that both spell it alike; the engine unwraps it (engine/connect-envelope.ts).
 */
import { lenientEnum } from '../../config/lenient.ts'
import type { ValueEnvelope } from '../../api/source.ts'

export type { ValueEnvelope }

export const envelopeSchema = lenientEnum(
  ['none', 'connect'],
  'What each JSON value is: "none" (default) the record itself; "connect" Kafka Connect\'s JsonConverter envelope {"schema": ..., "payload": ...} (Connect sources, Debezium with schemas.enable=true), read as its payload; a value without "payload" is a dead letter (RECORD_DECODE).',
  { kafkaconnect: 'connect', jsonconverter: 'connect', schemaandpayload: 'connect', schemapayload: 'connect', plain: 'none', off: 'none' },
)

/** The validate summary's words for an envelope ('' for none). */
export function envelopeNote(envelope: ValueEnvelope | undefined): string {
  return envelope === 'connect' ? ', values in the Kafka Connect envelope (payload)' : ''
}
