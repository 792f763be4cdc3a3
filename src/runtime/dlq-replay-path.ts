/**
 * What a dead letter becomes when it goes through the pipeline's record path again (`sluice dlq
 * replay`): the run's own RecordPath (decode, extract JSON Schema, metadata fields, transform
 * steps, event time) built from the pipeline's current config, as `run` builds it (assemble.ts).
 *
 * Two choices differ from a run, on purpose:
 * - The watermark is not applied: the record was already admitted once (as a dead letter, or as a
 *   late one sent to the DLQ), and replaying it is the operator's decision to load it now. Its
 *   event time is still read, so a missing or unparsable one is still RECORD_EVENT_TIME.
 * - The record's `timestamp` metadata is the time it was dead-lettered: the DLQ format keeps the
 *   original key, value, headers, topic, partition and offset, not the original timestamp.
 *
 * Refused: pipelines with an aggregate step (a replayed record would be folded into totals that
 * may already count other records of its window, outside any batch: the result could no longer be
 * checked against the source) and CSV file pipelines (a CSV dead letter is one line without its
 * header, which cannot be decoded on its own).
 */
import type { Row, RowValues, SourceRecord } from '../api/record.ts'
import type { SourceKind } from '../api/source.ts'
import type { TableBatch, TableWriteResult } from '../api/writer.ts'
import { splitSteps } from '../components/transforms/index.ts'
import { deleteKeyPaths, deleteKeys, fieldsReferenced, rowTransform, valueEnvelope, routingOption } from './record-path-config.ts'
import { fieldValue } from '../components/sinks/postgres/copy-encode.ts'
import { sourceFor } from '../components/registry.ts'
import type { PipelineConfig } from '../config/index.ts'
import { metadataFor } from '../engine/metadata.ts'
import { RecordPath, type RecordPathOptions, deletedKey, tombstoneSkipReason } from '../engine/records.ts'
import type { RecordValidator } from '../engine/record-schema.ts'
import { SluiceError } from '../errors.ts'
import type { DeadLetterEntry } from './dlq-entry.ts'

/** Throws UNSUPPORTED for a pipeline whose dead letters cannot be replayed (see the file comment). */
export function refuseUnreplayable(config: PipelineConfig): void {
  const { aggregate, deduplicate } = splitSteps(config.transform)
  if (deduplicate) {
    throw new SluiceError(
      'UNSUPPORTED',
      `sluice dlq replay does not replay into a pipeline with a deduplicate step (${config.pipelineId}): a replayed record would bypass the keys the step remembers and could land a second copy of a key`,
    )
  }
  if (aggregate) {
    throw new SluiceError(
      'UNSUPPORTED',
      `sluice dlq replay does not replay into an aggregate pipeline (${config.pipelineId} ends with an aggregate step): the totals in ${config.load.table} would take records outside any batch; load them with a pipeline without the aggregate step`,
    )
  }
  const why = sourceFor(config.extract).unreplayable?.(config.extract) ?? null
  if (why !== null) throw new SluiceError('UNSUPPORTED', `sluice dlq replay cannot replay the dead letters of ${config.pipelineId}: ${why}`)
}

/** The record path of a replay: the run's, built from the config, with the metadata the steps and the table's columns need. */
export function replayPathOptions(config: PipelineConfig, kind: SourceKind, validator: RecordValidator | null, columns: readonly string[] | null): RecordPathOptions {
  const watermark = config.streamingConfigJson?.watermark
  return {
    validator,
    transform: rowTransform(config),
    watermark: watermark ? { column: watermark.eventTimeColumn, delayMs: watermark.delayThreshold } : null,
    deleteKeys: deleteKeys(config),
    ...deleteKeyPaths(config),
    metadata: metadataFor(kind, fieldsReferenced(config), columns, valueEnvelope(config)),
    envelope: valueEnvelope(config),
    ...routingOption(config),
  }
}

/** The source record a dead letter was: its original key, value and headers, where it came from. */
export function entryRecord(e: DeadLetterEntry, kind: SourceKind): SourceRecord {
  const line = kind === 'file' && /^\d+$/.test(e.source.offset) ? Number(e.source.offset) : undefined
  return {
    partition: `${e.source.topic}/${e.source.partition}`,
    topic: e.source.topic,
    partitionNumber: e.source.partition,
    offset: e.source.offset,
    key: e.key,
    value: e.value,
    timestamp: Date.parse(e.failedAt),
    headers: e.headers,
    ...(line === undefined ? {} : { line }),
  }
}

/** What replaying one dead letter gives (or would give, in a dry run). */
export type ReplayVerdict =
  | { readonly outcome: 'row'; readonly row: RowValues }
  | { readonly outcome: 'filtered' }
  | { readonly outcome: 'deleted'; readonly key: RowValues }
  | { readonly outcome: 'skipped'; readonly reason: string }
  | { readonly outcome: 'failed'; readonly code: string; readonly reason: string }

/** Landed (or resolved without a row: filtered, a delete, a skipped tombstone): marked replayed. */
export type ResolvedVerdict = Exclude<ReplayVerdict, { outcome: 'failed' }>

export interface ReplayPlan {
  readonly entries: readonly DeadLetterEntry[]
  /** One verdict per entry, in order; rows are `row` until the table refuses one. */
  readonly verdicts: ReplayVerdict[]
  /** What the table writer writes. */
  readonly table: TableBatch
  /** Index of each row's entry. */
  readonly entryOf: ReadonlyMap<SourceRecord, number>
}

/**
 * Runs the entries through the record path as one batch, without a watermark (null: nothing is
 * late). `columns` (the table's, when known) shapes the row shown for each.
 */
export function planReplay(options: RecordPathOptions, kind: SourceKind, entries: readonly DeadLetterEntry[], columns: readonly string[] | null): ReplayPlan {
  const path = new RecordPath(options, null)
  const verdicts: ReplayVerdict[] = []
  const entryOf = new Map<SourceRecord, number>()
  entries.forEach((entry, i) => {
    const record = entryRecord(entry, kind)
    entryOf.set(record, i)
    const b = path.batch
    const before = [b.rows.length, b.dead.length, b.filtered, b.tombstonesSkipped] as const
    path.add([record])
    if (b.rows.length > before[0]) verdicts.push({ outcome: 'row', row: shown((b.rows.at(-1) as Row).values, columns) })
    else if (b.dead.length > before[1]) {
      const d = b.dead.at(-1) as (typeof b.dead)[number]
      verdicts.push({ outcome: 'failed', code: d.code, reason: d.reason })
    } else if (b.filtered > before[2]) verdicts.push({ outcome: 'filtered' })
    else if (b.tombstonesSkipped > before[3]) verdicts.push({ outcome: 'skipped', reason: tombstoneSkipReason(options) })
    // Nothing else grew: a tombstone or d event whose key the batch deletes (RecordPath keeps those until finish).
    else verdicts.push({ outcome: 'deleted', key: deletedKey(record, options) })
  })
  const processed = path.finish()
  return { entries, verdicts, table: { rows: processed.rows, deletes: processed.deletes, deleteTopics: processed.deleteTopics }, entryOf }
}

/** Turns the rows the table refused into failed verdicts (they stay in the DLQ with the table's reason). */
export function applyWrite(plan: ReplayPlan, result: TableWriteResult): void {
  for (const r of result.rejected) {
    const i = plan.entryOf.get(r.row.source)
    if (i === undefined) throw new SluiceError('INTERNAL', 'a refused row of the replay has no dead letter')
    plan.verdicts[i] = { outcome: 'failed', code: r.error.code, reason: r.error.message }
  }
}

/** The values the table's columns get (as the sink maps fields); every field when the columns are unknown. */
function shown(values: RowValues, columns: readonly string[] | null): RowValues {
  if (columns === null) return values
  return Object.fromEntries(columns.map((c) => [c, fieldValue(values, c, c.toLowerCase()) ?? null]))
}
