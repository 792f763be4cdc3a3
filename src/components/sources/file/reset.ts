/**
 * Where `sluice reset` moves a file pipeline (Source.resetTo). A file's position is `done` once a
 * committed batch read it, and absent while it is new; so `earliest` forgets every file (the files
 * still in the folder are read again), `latest` marks every eligible file done (only files that
 * arrive later are read), and a position map sets single files to `done` or forgets them (null).
 * Files hold no index by time, so a time target is refused.
 */
import type { Position } from '../../../api/position.ts'
import type { PositionMoves, ResetTarget } from '../../../api/reset.ts'
import { SluiceError } from '../../../errors.ts'

const PREFIX = 'file:'
const DONE = 'done'

const ALLOWED = 'earliest, latest, or a position map such as {"file:2026-11-25.ndjson": "done", "file:2026-11-26.ndjson": null}'

/** The moves of a target; `eligible` is every complete file of the folder now, as done (Source.latest). */
export function fileResetMoves(target: ResetTarget, stored: Position, eligible: Position): PositionMoves {
  const out: Record<string, string | null> = {}
  switch (target.kind) {
    case 'earliest':
      for (const key of Object.keys(stored)) if (key.startsWith(PREFIX)) out[key] = null
      return out
    case 'latest':
      for (const key of Object.keys(eligible)) out[key] = DONE
      return out
    case 'time':
      throw new SluiceError('RESET_REFUSED', `the file source cannot be reset to a time (files have no index by record time); use ${ALLOWED}`, { details: { target: 'time' } })
    case 'positions':
      for (const [key, value] of Object.entries(target.positions)) {
        if (!key.startsWith(PREFIX) || key.length === PREFIX.length) {
          throw new SluiceError('RESET_REFUSED', `--to at ${JSON.stringify(key)}: not a file of this source (keys are "file:<name relative to the folder>", as sluice status shows them)`, { details: { partition: key } })
        }
        if (value !== null && value !== DONE) {
          throw new SluiceError('RESET_REFUSED', `--to at ${JSON.stringify(key)}: ${JSON.stringify(value)} is not a file position; use "done" (never read it again) or null (read it again)`, {
            details: { partition: key, value },
          })
        }
        out[key] = value
      }
      return out
  }
}
