/**
 * Routes dead letters and late records of a batch to their destinations as side outputs of the
 * batch's own transaction, so that after any crash each source record is in exactly one place:
 *
 * - PostgreSQL DLQ (`dlqType: postgresql`): rows in the DLQ table, committed with the batch.
 * - Kafka DLQ (`dlqType: kafka`): rows in the outbox table `sluice_dlq_outbox`, committed with the
 *   batch, then published by the outbox relay (components/kafka/outbox/relay.ts) and deleted.
 * - Late records: `sendtodlq` goes to the DLQ (`dlqTopic` overrides the topic, or the table for a
 *   PostgreSQL DLQ); `separatestream` goes to `separateTable` (same format as the DLQ table) or
 *   `separateTopic` (through the outbox). `drop` and `loganddrop` never reach this module.
 */
import type { RowValues } from '../api/record.ts'
import type { DeadLetter } from '../api/writer.ts'
import { dlqOutboxColumns, dlqRow, dlqTableColumns, outboxRow } from './dlq-record.ts'

/** The outbox table of Kafka-bound dead letters, in the sink database. */
export const OUTBOX_TABLE = 'sluice_dlq_outbox'

/** Rows for a table other than the target, written in the batch's transaction (DLQ, late data, outbox). */
export interface SideOutput {
  /** Table name (may be `schema.table`); quoted by the writer. */
  readonly table: string
  readonly rows: readonly RowValues[]
  /** Create the table with these column types when absent. */
  readonly columns: Readonly<Record<string, string>>
}

/** Shapes one batch's dead letters and late records as rows of their tables (DeadLetterTables does). */
export interface DeadLetterShaper {
  sideOutputs(batchId: number, dead: readonly DeadLetter[], late: readonly DeadLetter[]): SideOutput[]
}

/** A destination for records that do not go to the target table. */
export type Destination = { readonly kind: 'table'; readonly table: string } | { readonly kind: 'topic'; readonly topic: string }

export interface DeadLetterRoutes {
  readonly pipelineId: string
  /** Where bad records go. */
  readonly dlq: Destination
  /** Where late records go, when their strategy sends them anywhere. */
  readonly late: Destination | null
  readonly now?: () => number
}

/** Builds side outputs for dead letters; Kafka destinations go through the outbox table. */
export class DeadLetterTables implements DeadLetterShaper {
  readonly #routes: DeadLetterRoutes
  /**
   * Outbox seq numbers are unique per batch across calls: the batch's own dead letters come first,
   * then the rows the sink refuses (the reject handler calls again, once per write attempt).
   */
  #seqBatch = -1
  #nextSeq = 0

  constructor(routes: DeadLetterRoutes) {
    this.#routes = routes
  }

  /** Side outputs for one batch (rows grouped by table). */
  sideOutputs(batchId: number, dead: readonly DeadLetter[], late: readonly DeadLetter[]): SideOutput[] {
    const { pipelineId } = this.#routes
    const failedAt = (this.#routes.now ?? Date.now)()
    const tables = new Map<string, { columns: Readonly<Record<string, string>>; rows: RowValues[] }>()
    if (batchId !== this.#seqBatch) {
      this.#seqBatch = batchId
      this.#nextSeq = 0
    }
    const add = (letter: DeadLetter, to: Destination): void => {
      const input = { code: letter.code, reason: letter.reason, pipelineId, batchId, record: letter.record, failedAt }
      if (to.kind === 'table') {
        const group = tables.get(to.table) ?? { columns: dlqTableColumns, rows: [] }
        group.rows.push(dlqRow(input))
        tables.set(to.table, group)
      } else {
        const group = tables.get(OUTBOX_TABLE) ?? { columns: dlqOutboxColumns, rows: [] }
        group.rows.push(outboxRow({ ...input, seq: this.#nextSeq++, topic: to.topic }))
        tables.set(OUTBOX_TABLE, group)
      }
    }
    for (const d of dead) add(d, this.#routes.dlq)
    const lateTo = this.#routes.late
    if (lateTo) for (const l of late) add(l, lateTo)
    return [...tables].map(([table, g]) => ({ table, columns: g.columns, rows: g.rows }))
  }

  /** True when some destination is a Kafka topic (an outbox relay is needed). */
  get usesOutbox(): boolean {
    return this.#routes.dlq.kind === 'topic' || this.#routes.late?.kind === 'topic'
  }
}
