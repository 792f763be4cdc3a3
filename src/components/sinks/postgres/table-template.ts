/**
 * Topic-to-table routing: `load.table` as a template with `{topic}` (`"{topic}"`, `"raw_{topic}"`,
 * `"myschema.{topic}"`), Kafka Connect's `table.name.format=${topic}` with the braces alone, because
 * `${...}` is Sluice's environment interpolation. The rules, as README "Routing topics to tables" says:
 * - only the table part is templated, never the schema;
 * - every character of the topic outside [A-Za-z0-9_] becomes `_` (`orders.v1-eu` -> `orders_v1_eu`),
 *   as Connect's JDBC sink does for the characters a table name cannot hold unquoted;
 * - the case is kept: the name is always quoted, so `Orders` and `orders` are two tables;
 * - a name longer than PostgreSQL's 63-byte identifier limit is not cut (PostgreSQL would cut it
 *   silently, and two long topics could land in one table): its records go to the DLQ (RECORD_ROUTE).
 */
import { SluiceError } from '../../../errors.ts'
import { parseQualified, type QualifiedName } from './sql/quote.ts'

export const TOPIC_PLACEHOLDER = '{topic}'
/** PostgreSQL's NAMEDATALEN - 1: longer identifiers are truncated, not refused. */
export const MAX_IDENTIFIER_BYTES = 63

/** A parsed template: the schema (never templated) and the table part, holding `{topic}`. */
export interface TableTemplate {
  readonly schema: string | undefined
  readonly name: string
}

/** True when `table` is a template (holds `{topic}`), not one table. */
export function isTableTemplate(table: string): boolean {
  return table.includes(TOPIC_PLACEHOLDER)
}

/** Another `{...}` than `{topic}`: a typo such as `{Topic}` or `{topics}` would otherwise be a literal table name. */
function otherPlaceholder(table: string): string | undefined {
  return [...table.matchAll(/\{[^{}]*\}/g)].map((m) => m[0]).find((p) => p !== TOPIC_PLACEHOLDER)
}

/**
 * Parses a `load.table` value that is a template; returns why it is not a usable one instead (the
 * schema part templated, another placeholder, a fixed part that leaves no byte for the topic).
 */
export function parseTableTemplate(table: string): TableTemplate | { readonly error: string } {
  const other = otherPlaceholder(table)
  if (other !== undefined) return { error: `has ${other}: the only placeholder is {topic} (the record's Kafka topic)` }
  const parsed = parseQualified(table)
  if ('error' in parsed) return { error: `table name ${parsed.error}` }
  if (parsed.schema !== undefined && parsed.schema.includes(TOPIC_PLACEHOLDER)) {
    return { error: 'templates the schema: only the table part may hold {topic} (e.g. "myschema.{topic}")' }
  }
  if (!parsed.name.includes(TOPIC_PLACEHOLDER)) return { error: 'has {topic} outside the table part' }
  const fixed = Buffer.byteLength(parsed.name.replaceAll(TOPIC_PLACEHOLDER, ''), 'utf8')
  if (fixed >= MAX_IDENTIFIER_BYTES) return { error: `has a fixed part of ${fixed} bytes: a PostgreSQL table name holds at most ${MAX_IDENTIFIER_BYTES} bytes, the topic needs at least one` }
  return { schema: parsed.schema, name: parsed.name }
}

/** Parses a template that the config schema checked already (CONFIG_INVALID otherwise). */
export function tableTemplate(table: string): TableTemplate {
  const t = parseTableTemplate(table)
  if ('error' in t) throw new SluiceError('CONFIG_INVALID', `load.table ${JSON.stringify(table)} ${t.error}`)
  return t
}

/** The topic as it appears in a table name: characters outside [A-Za-z0-9_] become `_`, case kept. */
export function topicPart(topic: string): string {
  return topic.replace(/[^A-Za-z0-9_]/g, '_')
}

/**
 * The table a topic's records go to; RECORD_ROUTE when the name is longer than 63 bytes (the
 * record goes to the DLQ; the schema is the template's, or the pipeline's when it names none).
 */
export function routedTable(template: TableTemplate, topic: string): QualifiedName | SluiceError {
  const name = template.name.replaceAll(TOPIC_PLACEHOLDER, topicPart(topic))
  const bytes = Buffer.byteLength(name, 'utf8')
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return new SluiceError('RECORD_ROUTE', `topic ${JSON.stringify(topic)} names table ${JSON.stringify(name)} of ${bytes} bytes through load.table ${JSON.stringify(templateText(template))}: PostgreSQL table names hold at most ${MAX_IDENTIFIER_BYTES} bytes (a shorter prefix in the template, or shorter topic names)`, {
      details: { topic, table: name, bytes },
    })
  }
  return { schema: template.schema, name }
}

function templateText(t: TableTemplate): string {
  return t.schema === undefined ? t.name : `${t.schema}.${t.name}`
}

/**
 * For the record path of a template (null for one table): why a topic has no table, or null. Its
 * records, tombstones and delete events too, then go to the DLQ before anything else is decided.
 */
export function topicRouting(table: string): { readonly unroutable: (topic: string) => string | null } | null {
  if (!isTableTemplate(table)) return null
  const template = tableTemplate(table)
  return {
    unroutable: (topic) => {
      const t = routedTable(template, topic)
      return t instanceof SluiceError ? t.message : null
    },
  }
}

/**
 * The default DLQ table of a template: `{topic}` read as the word `topic` (`raw_{topic}` ->
 * `raw_topic`, to which the caller adds `_dlq`): one fixed table for the dead letters of every topic,
 * each row naming its topic.
 */
export function templateBaseTable(table: string): string {
  return table.replaceAll(TOPIC_PLACEHOLDER, 'topic')
}
