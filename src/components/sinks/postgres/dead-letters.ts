/**
 * The dead-letter writer of the PostgreSQL store: the rows a router shapes for a batch's dead
 * letters and late records (a DLQ table, the late table, the outbox of a Kafka DLQ) are COPYed
 * into their tables on the batch's own transaction.
 */
import type { DeadLetter, DeadLetterWriter } from '../../../api/writer.ts'
import type { DeadLetterShaper } from '../../../reliability/dlq.ts'

export type { DeadLetterShaper }
import type { ChunkLimits } from './copy-encode.ts'
import { SideTables, writeSideOutputs } from './side-outputs.ts'
import type { PgBatchTx } from './store.ts'

export class PostgresDeadLetters implements DeadLetterWriter<PgBatchTx> {
  readonly #shaper: DeadLetterShaper
  readonly #limits: ChunkLimits
  readonly #tables = new SideTables()

  constructor(shaper: DeadLetterShaper, limits: ChunkLimits) {
    this.#shaper = shaper
    this.#limits = limits
  }

  async write(tx: PgBatchTx, batchId: number, dead: readonly DeadLetter[], late: readonly DeadLetter[]): Promise<void> {
    const outputs = this.#shaper.sideOutputs(batchId, dead, late)
    if (outputs.every((o) => o.rows.length === 0)) return
    tx.onCommit(() => this.#tables.commit())
    tx.onRollback(() => this.#tables.rollback())
    await writeSideOutputs(tx.session, outputs, tx.schema, this.#tables, this.#limits)
  }
}
