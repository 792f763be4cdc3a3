/**
 * Where a query resumes. With exactly-once on, the store (the sink database) is the authority: it holds the
 * last committed batch id, the source position after it and the watermark, all committed in the
 * batch's own transaction. The checkpoint folder holds the plan: a batch written to offsets/N but
 * not committed is re-run with exactly the same range and watermark (Spark's protocol). If the
 * checkpoint folder is lost, Sluice resumes from the database. With exactly-once off, the
 * checkpoint's commits/ are the authority (at-least-once: a batch may be written twice).
 */
import type { Position } from '../api/position.ts'
import type { CommittedState } from '../api/store.ts'
import type { Logger } from '../api/component.ts'
import { SluiceError } from '../errors.ts'
import type { CheckpointLog, PlannedBatch } from './checkpoint.ts'

/** The state a query starts from. */
export interface ResumePoint {
  readonly nextBatchId: number
  readonly position: Position
  readonly watermarkMs: number | null
  /** A planned, uncommitted batch to re-run first, unchanged. */
  readonly replay: PlannedBatch | null
}

/** Computes the resume point from the database state and the checkpoint folder. */
export async function resolveResumePoint(
  db: CommittedState | null,
  checkpoint: CheckpointLog | null,
  exactlyOnce: boolean,
  logger: Logger,
): Promise<ResumePoint> {
  const planned = checkpoint ? await checkpoint.latestPlanned() : null
  const committed = checkpoint ? await checkpoint.latestCommitted() : null
  let nextBatchId = 0
  let position: Position = {}
  let watermarkMs: number | null = null

  if (exactlyOnce) {
    if (db) {
      nextBatchId = db.batchId + 1
      position = db.position
      watermarkMs = db.watermarkMs
      if (committed === null && planned === null && checkpoint) {
        logger.warn({ batchId: db.batchId }, 'checkpoint folder is empty; resuming from the position stored in the database')
      }
    } else if (committed !== null) {
      throw new SluiceError(
        'CHECKPOINT_CORRUPT',
        `the checkpoint ${checkpoint?.location} records committed batch ${committed.batchId}, but the database has no batch for this pipeline; ` +
          'if the tables were reset on purpose, delete the checkpoint folder',
      )
    }
    if (checkpoint && planned && db && planned.batchId <= db.batchId && (committed === null || committed.batchId < db.batchId)) {
      // The database committed, the process died before writing commits/N: repair the marker.
      await checkpoint.writeCommitted({ batchId: db.batchId, nextWatermarkMs: db.watermarkMs, end: db.position })
    }
  } else if (committed !== null) {
    nextBatchId = committed.batchId + 1
    position = committed.end
    watermarkMs = committed.nextWatermarkMs
  }

  let replay: PlannedBatch | null = null
  if (planned && planned.batchId === nextBatchId) {
    for (const [partition, value] of Object.entries(planned.start)) {
      if (position[partition] !== undefined && position[partition] !== value) {
        throw new SluiceError(
          'CHECKPOINT_CORRUPT',
          `planned batch ${planned.batchId} starts at ${partition}=${value} but the committed position is ${position[partition]}`,
        )
      }
    }
    replay = planned
    position = planned.start
    watermarkMs = planned.watermarkMs
  } else if (planned && planned.batchId > nextBatchId) {
    throw new SluiceError(
      'CHECKPOINT_CORRUPT',
      `the checkpoint plans batch ${planned.batchId} but the last committed batch is ${nextBatchId - 1}`,
    )
  }
  return { nextBatchId, position, watermarkMs, replay }
}
