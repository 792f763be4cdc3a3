/**
 * The `envelope` option of the sources whose records are JSON values (kafka, file NDJSON): whether
 * a value is the record itself or Kafka Connect's JsonConverter envelope around it, and for Kafka a
 * Debezium change event. Shared by those source folders so that both spell it alike; the engine
 * unwraps it (engine/connect-envelope.ts, engine/debezium.ts).
 */
import { lenientEnum } from '../../config/lenient.ts'
import type { ValueEnvelope } from '../../api/source.ts'

export type { ValueEnvelope }

const connectHelp =
  'What each JSON value is: "none" (default) the record itself; "connect" Kafka Connect\'s JsonConverter envelope {"schema": ..., "payload": ...} (Connect sources, Debezium with schemas.enable=true), read as its payload, with logical types (Decimal, Date, Timestamp, the Debezium time and decimal types) converted by its schema; a value without "payload" is a dead letter (RECORD_DECODE).'
const aliases = { kafkaconnect: 'connect', jsonconverter: 'connect', schemaandpayload: 'connect', schemapayload: 'connect', plain: 'none', off: 'none' } as const

export const envelopeSchema = lenientEnum(['none', 'connect'], connectHelp, aliases)

/** The Kafka source's: also Debezium change events, whose deletes and tombstones are Kafka's. */
export const kafkaEnvelopeSchema = lenientEnum(
  ['none', 'connect', 'debezium'],
  `${connectHelp} "debezium": Debezium change events, with or without the Connect wrapper (with it, logical types are converted by its schema): op c/r/u upserts "after", d deletes the key (from "before", else the record key), the tombstone after a delete is skipped, t (truncate) and other ops are dead letters (RECORD_DECODE); needs load.writeMode "upsert" with upsertKeys, and deletes whether or not deleteOnTombstone is set. The fields __op, __ts_ms and __source (the source block) are there for the steps and the table.`,
  aliases,
)

/** The validate summary's words for an envelope ('' for none). */
export function envelopeNote(envelope: ValueEnvelope | undefined): string {
  if (envelope === 'debezium') return ', values Debezium change events (applied by key)'
  return envelope === 'connect' ? ', values in the Kafka Connect envelope (payload)' : ''
}
