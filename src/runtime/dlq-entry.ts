/**
 * One dead letter as `sluice dlq list|show` presents it, whichever DLQ holds it (a PostgreSQL
 * table or a Kafka topic): the eight sluice.* fields, the original key, value and headers byte for
 * byte, and an id that finds it again.
 *
 * Ids: a table row is named by its source position and batch, `<topic>/<partition>@<offset>#<batch>`
 * (a source record is dead-lettered once per batch, and the table has no key of its own); a Kafka
 * dead letter by its place in the DLQ topic, `<dlq topic>/<partition>@<offset>`. Partition, offset
 * and batch are digits, so the id is parsed from the right whatever the topic (a file name) holds.
 */
import type { Header } from '../reliability/dlq-record.ts'

export interface DeadLetterEntry {
  readonly id: string
  readonly code: string
  readonly reason: string
  readonly pipelineId: string
  readonly batchId: string
  /** ISO-8601. */
  readonly failedAt: string
  readonly source: { readonly topic: string; readonly partition: number; readonly offset: string }
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** The original headers (the sluice.* ones are the fields above). */
  readonly headers: readonly Header[]
  /** What `sluice dlq replay` did with it; absent when it was never tried. */
  readonly replay?: ReplayState
}

/** A dead letter's state with `sluice dlq replay`: replayed (landed, once), or tried and still failing with a new error. */
export interface ReplayState {
  /** ISO-8601 when it landed; null while it still fails. */
  readonly replayedAt: string | null
  /** How it landed: row, filtered, deleted, skipped (null while it still fails). */
  readonly replayedAs: string | null
  /** The error of the last failed try (null once replayed at the first try). */
  readonly code: string | null
  readonly reason: string | null
  /** ISO-8601 of the last try. */
  readonly triedAt: string
  readonly attempts: number
}

/** Which dead letters to list. */
export interface DlqFilter {
  readonly code?: string
  /** Epoch ms, inclusive. */
  readonly since?: number
  /** Epoch ms, exclusive. */
  readonly until?: number
  readonly limit: number
  /** Also the dead letters `sluice dlq replay` landed (hidden by default: they are done). */
  readonly includeReplayed?: boolean
}

/** What a listing found: the first `limit` matches (oldest first), whether more match, and the count of every match by code. */
export interface DlqListing {
  /** "table public.orders_dlq" / "kafka topic failed-orders". */
  readonly where: string
  readonly entries: DeadLetterEntry[]
  readonly more: boolean
  readonly byCode: Record<string, number>
}

export function tableEntryId(topic: string, partition: number, offset: string, batchId: string): string {
  return `${topic}/${partition}@${offset}#${batchId}`
}

export function topicEntryId(topic: string, partition: number, offset: string): string {
  return `${topic}/${partition}@${offset}`
}

/** The parts of a table dead letter's id; null when `id` is not of that form. */
export function parseTableId(id: string): { topic: string; partition: number; offset: string; batchId: string } | null {
  const m = /^(.+)\/(\d+)@(\d+)#(\d+)$/.exec(id)
  if (!m) return null
  return { topic: m[1] as string, partition: Number(m[2]), offset: m[3] as string, batchId: m[4] as string }
}

/** The parts of a Kafka dead letter's id; null when `id` is not of that form. */
export function parseTopicId(id: string): { topic: string; partition: number; offset: bigint } | null {
  const m = /^(.+)\/(\d+)@(\d+)$/.exec(id)
  if (!m) return null
  return { topic: m[1] as string, partition: Number(m[2]), offset: BigInt(m[3] as string) }
}

/** The id shapes, for the message when an id is of neither. */
export const ID_SHAPES = { table: '<source topic>/<partition>@<offset>#<batch id>', topic: '<dlq topic>/<partition>@<offset>' } as const

/** A filter's time bounds and code, applied to an entry (the Kafka DLQ filters as it reads). */
export function matches(e: DeadLetterEntry, f: DlqFilter): boolean {
  if (f.code !== undefined && e.code !== f.code) return false
  const t = Date.parse(e.failedAt)
  if (f.since !== undefined && !(t >= f.since)) return false
  if (f.until !== undefined && !(t < f.until)) return false
  if (!f.includeReplayed && e.replay?.replayedAt != null) return false
  return true
}

/** Bytes for JSON: base64 always (exact), and the text when they are valid UTF-8 (for reading). */
export function bytesJson(b: Buffer | null): { base64: string; text?: string } | null {
  if (b === null) return null
  const text = utf8Text(b)
  return { base64: b.toString('base64'), ...(text === null ? {} : { text }) }
}

/** The UTF-8 text of some bytes, or null when they are not valid UTF-8. */
export function utf8Text(b: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b)
  } catch {
    return null
  }
}

/** The JSON form of an entry (--json). */
export function entryJson(e: DeadLetterEntry): Record<string, unknown> {
  return {
    id: e.id,
    code: e.code,
    reason: e.reason,
    pipelineId: e.pipelineId,
    batchId: e.batchId,
    failedAt: e.failedAt,
    source: e.source,
    key: bytesJson(e.key),
    value: bytesJson(e.value),
    headers: e.headers.map(([name, value]) => ({ name, ...bytesJson(value) })),
    ...(e.replay === undefined ? {} : { replay: e.replay }),
  }
}
