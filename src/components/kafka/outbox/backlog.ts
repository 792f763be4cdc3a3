/**
 * What a pipeline has waiting in the Kafka outbox (`sluice_dlq_outbox`): rows per destination topic
 * and the creation time of the oldest one. Read by the relay (metric, /status, the drain at the end
 * of a run) and by `sluice status`, from the sink database, so it is the truth whichever process asks.
 */
import { readFileSync } from 'node:fs'
import { sqlState } from '../../sinks/postgres/classify-error.ts'
import type { PgDriver } from '../../sinks/postgres/driver.ts'
import { quoteName } from '../../sinks/postgres/sql/quote.ts'
import { OUTBOX_TABLE } from '../../../reliability/dlq.ts'

export interface OutboxBacklog {
  /** Rows waiting, all topics. */
  readonly rows: number
  /** Rows waiting per destination topic. */
  readonly topics: Readonly<Record<string, number>>
  /** Creation time of the oldest waiting row (epoch ms), or null when none waits. */
  readonly oldestMs: number | null
}

export const EMPTY_BACKLOG: OutboxBacklog = { rows: 0, topics: {}, oldestMs: null }

let text: string | undefined

/** The pipeline's backlog; no outbox table means nothing was ever dead-lettered to Kafka. */
export async function outboxBacklog(driver: PgDriver, schema: string, pipelineId: string): Promise<OutboxBacklog> {
  text ??= readFileSync(new URL('./sql/outbox-backlog.sql', import.meta.url), 'utf8')
  let result
  try {
    result = await driver.query<{ topic: string; rows: number; oldest: Date }>(text.replaceAll('{{table}}', quoteName(schema, OUTBOX_TABLE)), [pipelineId])
  } catch (err) {
    if (sqlState(err) === '42P01') return EMPTY_BACKLOG
    throw err
  }
  const topics: Record<string, number> = {}
  let rows = 0
  let oldestMs: number | null = null
  for (const r of result.rows) {
    topics[r.topic] = r.rows
    rows += r.rows
    const t = r.oldest.getTime()
    if (oldestMs === null || t < oldestMs) oldestMs = t
  }
  return { rows, topics, oldestMs }
}

/** "3 in orders-dlq, 1 in orders-late" */
export function describeBacklog(b: OutboxBacklog): string {
  return Object.entries(b.topics).map(([topic, n]) => `${n} in ${topic}`).join(', ')
}
