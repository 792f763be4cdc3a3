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

interface StoredRow {
  readonly state_key: string
  readonly end_ms: string
  readonly state: string
  readonly expires_ms: string | null
}

function storedWindow(row: StoredRow): StoredWindow {
  return { key: row.state_key, endMs: Number(row.end_ms), state: parseJson(row.state), expiresMs: row.expires_ms === null ? null : Number(row.expires_ms) }
}

export class PostgresWindowState implements WindowState<PgBatchTx> {
  async lockWatermark(tx: PgBatchTx, pipelineId: string): Promise<number | null> {
    await tx.session.query(sqlText('window-state-lock', quoteIdent(tx.schema)), [`${tx.schema}.${pipelineId}`])
    // A statement of its own: its snapshot is taken after the lock, so it sees the commit that released it.
    const r = await tx.session.query<{ watermark_ms: string | null }>(sqlText('window-state-watermark', quoteIdent(tx.schema)), [pipelineId])
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

  async loadPrefixed(tx: PgBatchTx, scope: StateScope, prefixes: readonly string[]): Promise<StoredWindow[]> {
    if (prefixes.length === 0) return []
    const r = await tx.session.query<StoredRow>(sqlText('window-state-load-prefixed', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, prefixes])
    return r.rows.map(storedWindow)
  }

  async save(tx: PgBatchTx, scope: StateScope, windows: readonly StoredWindow[]): Promise<void> {
    if (windows.length === 0) return
    const keys = windows.map((w) => w.key)
    const ends = windows.map((w) => String(w.endMs))
    const states = windows.map((w) => JSON.stringify(w.state))
    const expiries = windows.map((w) => (w.expiresMs === undefined || w.expiresMs === null ? null : String(Math.trunc(w.expiresMs))))
    await tx.session.query(sqlText('window-state-save', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, keys, ends, states, expiries])
  }

  async delete(tx: PgBatchTx, scope: StateScope, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    await tx.session.query(sqlText('window-state-delete', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, keys])
  }

  async close(tx: PgBatchTx, scope: StateScope, watermarkMs: number | null, nowMs: number | null): Promise<StoredWindow[]> {
    if (watermarkMs === null && nowMs === null) return []
    const ms = (v: number | null): string | null => (v === null ? null : String(Math.trunc(v)))
    const r = await tx.session.query<StoredRow>(sqlText('window-state-close', quoteIdent(tx.schema)), [scope.pipelineId, scope.step, ms(watermarkMs), ms(nowMs)])
    return r.rows.map(storedWindow).sort((a, b) => a.endMs - b.endMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async count(tx: PgBatchTx, scope: StateScope): Promise<number> {
    const r = await tx.session.query<{ n: string }>(sqlText('window-state-count', quoteIdent(tx.schema)), [scope.pipelineId, scope.step])
    return Number(r.rows[0]?.n ?? 0)
  }
}
