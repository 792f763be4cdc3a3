/**
 * Loads the static `.sql` files beside this module, once each. Files may name the bookkeeping schema
 * as `{{schema}}`; it is replaced by an identifier that the caller quoted through quote.ts.
 */
import { readFileSync } from 'node:fs'

const cache = new Map<string, string>()

/** Names of the statement files in this folder (without `.sql`). */
export type SqlFile =
  | 'tracker-ddl'
  | 'tracker-mark'
  | 'tracker-is-processed'
  | 'tracker-last-batch'
  | 'tracker-cleanup'
  | 'tracker-status'
  | 'tracker-exists'
  | 'tracker-count'
  | 'positions-fence'
  | 'batch-close'
  | 'batch-close-next'
  | 'positions-read'
  | 'positions-at'
  | 'state-next-batch'
  | 'state-upsert'
  | 'state-upsert-partitions'
  | 'keyed-state-claim'
  | 'keyed-state-renew'
  | 'keyed-state-evict'
  | 'keyed-state-forget'
  | 'window-state-lock'
  | 'window-state-watermark'
  | 'window-state-load'
  | 'window-state-save'
  | 'window-state-close'
  | 'window-state-count'
  | 'window-state-load-prefixed'
  | 'window-state-delete'
  | 'state-read'
  | 'table-columns'
  | 'table-unique-keys'
  | 'current-schema'
  | 'upsert-work-mem'
  | 'run-lock-try'
  | 'run-lock-wait'
  | 'run-lock-exclusive'
  | 'reset-ddl'
  | 'reset-state'
  | 'reset-positions-set'
  | 'reset-positions-forget'
  | 'reset-history'
  | 'reset-state-save'
  | 'reset-event-times-clear'

function raw(name: SqlFile): string {
  let text = cache.get(name)
  if (text === undefined) {
    text = readFileSync(new URL(`./${name}.sql`, import.meta.url), 'utf8')
    cache.set(name, text)
  }
  return text
}

/** The text of `<name>.sql` with `{{schema}}` replaced by `quotedSchema` (already quoted). */
export function sqlText(name: SqlFile, quotedSchema = ''): string {
  return raw(name).replaceAll('{{schema}}', quotedSchema)
}

/** The statements of a multi-statement file (split at lines ending in `;`), each without the `;`. */
export function sqlStatements(name: SqlFile, quotedSchema = ''): string[] {
  return sqlText(name, quotedSchema)
    .split(/;[ \t]*$/m)
    .map((s) => s.replace(/^\s*(--[^\n]*\n\s*)*/, '').trim())
    .filter((s) => s.length > 0)
}
