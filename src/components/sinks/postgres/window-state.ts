/**
 * The PostgreSQL window state of append-mode aggregates (src/api/window-state.ts):
 * `sluice_window_state` in the bookkeeping schema, on the batch transaction's session. States travel
 * as JSON text both ways, so the engine parses them with its exact-number JSON reader (a driver's
 * JSON.parse would round a long number).
 */
import type { StateScope } from '../../../api/keyed-state.ts'
import type { StoredWindow, WindowState } from '../../../api/window-state.ts'
import { parseJson } from '../../../engine/exact-number.ts'
import { quoteIdent } from './sql/quote.ts'
import { sqlText } from './sql/sql-files.ts'
import type { PgBatchTx } from './store.ts'

export class PostgresWindowState implements WindowState<PgBatchTx> {
  async lockWatermark(tx: PgBatchTx, pipelineId: string): Promise<number | null> {
    const r = await tx.session.query<{ watermark_ms: string | null }>(sqlText('window-state-lock', quoteIdent(tx.schema)), [pipelineId])
    const w = r.rows[0]?.watermark_ms
    return w === undefined || w === null ? null : Number(w)
  }

  async load(tx: PgBatchTx, scope: StateScope, keys: readonly string[]): Promise<ReadonlyMap<string, unknown>> {
    const out = new Map<string, unknown>()
    if (keys.length === 0) return out
    const r = await tx.session.query<{ state_key: string; state: string }>(sqlText('window-state-load', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, keys])
    for (const row of r.rows) out.set(row.state_key, parseJson(row.state))
    return out
  }

  async save(tx: PgBatchTx, scope: StateScope, windows: readonly StoredWindow[]): Promise<void> {
    if (windows.length === 0) return
    const keys = windows.map((w) => w.key)
    const ends = windows.map((w) => String(w.endMs))
    const states = windows.map((w) => JSON.stringify(w.state))
    await tx.session.query(sqlText('window-state-save', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, keys, ends, states])
  }

  async close(tx: PgBatchTx, scope: StateScope, watermarkMs: number): Promise<StoredWindow[]> {
    const r = await tx.session.query<{ state_key: string; end_ms: string; state: string }>(sqlText('window-state-close', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, String(Math.trunc(watermarkMs))])
    const closed = r.rows.map((row) => ({ key: row.state_key, endMs: Number(row.end_ms), state: parseJson(row.state) }))
    return closed.sort((a, b) => a.endMs - b.endMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async count(tx: PgBatchTx, scope: StateScope): Promise<number> {
    const r = await tx.session.query<{ n: string }>(sqlText('window-state-count', quoteIdent(tx.schema)), [scope.pipelineId, scope.step])
    return Number(r.rows[0]?.n ?? 0)
  }
}
