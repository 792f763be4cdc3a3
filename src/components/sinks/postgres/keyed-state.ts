/**
 * The PostgreSQL keyed state of stateful steps (src/api/keyed-state.ts): `sluice_keyed_state` in the
 * bookkeeping schema, written on the batch transaction's session, so the keys a batch remembers
 * commit with its rows, tracker row and positions, or not at all.
 */
import type { KeyedState, StateScope } from '../../../api/keyed-state.ts'
import { quoteIdent } from './sql/quote.ts'
import { sqlText } from './sql/sql-files.ts'
import type { PgBatchTx } from './store.ts'

export class PostgresKeyedState implements KeyedState<PgBatchTx> {
  async claim(tx: PgBatchTx, scope: StateScope, entries: ReadonlyMap<string, number>, expiredAt: number | null, renew: boolean): Promise<ReadonlySet<string>> {
    if (entries.size === 0) return new Set()
    const q = quoteIdent(tx.schema)
    const keys = [...entries.keys()]
    const expiries = keys.map((k) => String(Math.trunc(entries.get(k) as number)))
    const r = await tx.session.query<{ state_key: string }>(sqlText('keyed-state-claim', q), [scope.pipelineId, scope.step, keys, expiries, expiredAt === null ? null : String(Math.trunc(expiredAt))])
    const fresh = new Set(r.rows.map((row) => row.state_key))
    if (renew) {
      // One expiry for every key of a processing-time timeout (batch time + timeout): the live ones take it too.
      const live = keys.filter((k) => !fresh.has(k))
      if (live.length > 0) await tx.session.query(sqlText('keyed-state-renew', q), [scope.pipelineId, scope.step, live, expiries[0]])
    }
    return fresh
  }

  async forget(tx: PgBatchTx, scope: StateScope, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    await tx.session.query(sqlText('keyed-state-forget', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, keys])
  }

  async evict(tx: PgBatchTx, scope: StateScope, expiredAt: number): Promise<void> {
    await tx.session.query(sqlText('keyed-state-evict', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, String(Math.trunc(expiredAt))])
  }
}
