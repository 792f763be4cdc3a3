/**
 * `sluice test`: what each sample record becomes, through the code a run uses (RecordPath: decode,
 * extract JSON Schema, metadata fields, transform steps, event time and watermark; then the
 * aggregate step), without a sink: nothing is written, no position is committed, no database is
 * opened. The one thing it cannot tell is what PostgreSQL itself would refuse (RECORD_COLUMN: a
 * value that does not fit its column), which needs the table.
 *
 * The watermark follows the engine's rule: a batch applies the watermark of the batches before it
 * and never advances its own. The records go through as one batch (`batchSize` splits them, so
 * that a later batch sees the watermark an earlier one set), starting from `watermarkMs`.
 */
import type { Row, RowValues, SourceRecord } from '../api/record.ts'
import { fieldOf } from '../api/record.ts'
import { splitSteps } from '../components/transforms/index.ts'
import { deleteKeyPaths, deleteKeys, fieldsReferenced, rowTransform, valueEnvelope, routingOption } from './record-path-config.ts'
import { fieldValue } from '../components/sinks/postgres/copy-encode.ts'
import type { PipelineConfig } from '../config/index.ts'
import { type AggregateSpec, aggregateRows } from '../engine/aggregate.ts'
import type { LateStrategy } from '../engine/batch-runner.ts'
import { metadataFor } from '../engine/metadata.ts'
import { type ProcessedBatch, RecordPath, type RecordPathOptions, deletedKey, tombstoneSkipReason } from '../engine/records.ts'
import type { Destination } from '../reliability/dlq.ts'
import { pipelineRoutes } from './routes.ts'
import { pipelineSchemas } from './schemas.ts'
import { watermarkOptions } from './watermark-options.ts'

/** Where a sample record came from. */
export interface RecordPlace {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly line?: number
}

interface OutcomeBase {
  /** 1-based position of the record among the samples. */
  readonly record: number
  readonly source: RecordPlace
}

/** What one record became. */
export type RecordOutcome = OutcomeBase &
  (
    | { readonly outcome: 'row'; readonly row: RowValues }
    | { readonly outcome: 'dead'; readonly code: string; readonly reason: string; readonly to: string; readonly failFast?: true }
    | { readonly outcome: 'late'; readonly code: 'LATE_DATA'; readonly reason: string; readonly to: string }
    | { readonly outcome: 'filtered' }
    | { readonly outcome: 'delete'; readonly key: RowValues; readonly void?: true }
    | { readonly outcome: 'skipped'; readonly reason: string }
    | { readonly outcome: 'aggregated'; readonly group: RowValues }
  )

/** One row of the aggregate step's partial result, with the records folded into it. */
export interface AggregateOutcome {
  readonly outcome: 'aggregate'
  readonly row: RowValues
  readonly records: readonly number[]
}

export type DryRunLine = RecordOutcome | AggregateOutcome

/** The pipeline's record path, built from its config as `run` builds it (assemble.ts), without source or sink. */
export interface DryRunPipeline {
  readonly recordPath: RecordPathOptions
  readonly aggregate: AggregateSpec | null
  /** Table columns from load.schemaName (null: unknown without the database). */
  readonly columns: readonly string[] | null
  readonly lateStrategy: LateStrategy
  readonly dlqTo: string
  readonly lateTo: string
  readonly failFast: boolean
}

/** Reads the pipeline's schemas and compiles its steps. */
export async function dryRunPipeline(config: PipelineConfig, baseDir: string): Promise<DryRunPipeline> {
  const { aggregate } = splitSteps(config.transform)
  // The watermark as run applies it (assemble.ts: streamingConfigJson.watermark, none without it).
  const watermark = config.streamingConfigJson?.watermark
  const { validator, loadSchema } = await pipelineSchemas(config, baseDir)
  const columns = loadSchema ? Object.keys(loadSchema.columns) : null
  const routes = pipelineRoutes(config)
  return {
    recordPath: {
      validator,
      transform: rowTransform(config),
      watermark: watermark ? watermarkOptions(watermark, aggregate ?? undefined, config.streamingConfigJson?.outputMode ?? (aggregate ? 'update' : 'append')) : null,
      deleteKeys: deleteKeys(config),
      ...deleteKeyPaths(config),
      // As a run adds them: what the steps, watermark and keys read, and the table's columns when known.
      metadata: metadataFor(config.extract.sourceType, fieldsReferenced(config), columns ?? [], valueEnvelope(config)),
      envelope: valueEnvelope(config),
      ...routingOption(config),
    },
    aggregate: aggregate ?? null,
    columns,
    lateStrategy: routes.lateStrategy,
    dlqTo: destination(routes.dlq),
    lateTo: routes.lateStrategy === 'drop' ? 'dropped' : routes.lateStrategy === 'loganddrop' ? 'logged and dropped' : routes.late ? destination(routes.late) : 'dropped',
    failFast: config.errorHandlingConfig.failFast,
  }
}

/** "table clicks_dlq" / "topic failed-events" (no broker addresses: the output must not depend on the environment). */
function destination(d: Destination): string {
  return d.kind === 'table' ? `table ${d.table}` : `topic ${d.topic}`
}

export interface DryRunOptions {
  /** The watermark the first batch applies (epoch ms), as if earlier batches had set it. */
  readonly watermarkMs: number | null
  /** Records per micro-batch; Infinity: all in one. */
  readonly batchSize: number
}

/** Runs the samples through the record path and the aggregate step; one line per record, then the aggregate rows. */
export function dryRun(pipeline: DryRunPipeline, records: readonly SourceRecord[], options: DryRunOptions): DryRunLine[] {
  const out: DryRunLine[] = []
  let watermarkMs = options.watermarkMs
  const size = Math.max(1, options.batchSize)
  for (let from = 0; from < records.length; from += size) {
    const batch = records.slice(from, from + size)
    const result = runBatch(pipeline, batch, from, watermarkMs)
    out.push(...result.lines)
    watermarkMs = result.nextWatermarkMs
  }
  return out
}

function runBatch(p: DryRunPipeline, records: readonly SourceRecord[], first: number, watermarkMs: number | null): { lines: DryRunLine[]; nextWatermarkMs: number | null } {
  const path = new RecordPath(p.recordPath, watermarkMs)
  const outcomes: RecordOutcome[] = []
  const numberOf = new Map<SourceRecord, number>()
  records.forEach((record, i) => {
    const before = counts(path.batch)
    path.add([record])
    numberOf.set(record, first + i + 1)
    outcomes.push(outcomeOf(p, path.batch, before, record, first + i + 1))
  })
  const processed = path.finish()
  markVoidDeletes(p, outcomes, processed)
  const aggregates = p.aggregate === null ? [] : aggregateOutcomes(p, p.aggregate, processed.rows, outcomes, numberOf, first)
  return { lines: [...outcomes, ...aggregates], nextWatermarkMs: processed.nextWatermarkMs }
}

type Counts = readonly [rows: number, dead: number, late: number, filtered: number, skipped: number]

function counts(b: ProcessedBatch): Counts {
  return [b.rows.length, b.dead.length, b.late.length, b.filtered, b.tombstonesSkipped]
}

/** Which of the batch's lists the record just joined: that is what it became. */
function outcomeOf(p: DryRunPipeline, b: ProcessedBatch, before: Counts, record: SourceRecord, n: number): RecordOutcome {
  const base: OutcomeBase = { record: n, source: placeOf(record) }
  const [rows, dead, late, filtered, skipped] = before
  if (b.rows.length > rows) return { ...base, outcome: 'row', row: columnValues(p, (b.rows.at(-1) as Row).values) }
  if (b.dead.length > dead) {
    const d = b.dead.at(-1) as ProcessedBatch['dead'][number]
    return { ...base, outcome: 'dead', code: d.code, reason: d.reason, to: p.dlqTo, ...(p.failFast ? { failFast: true as const } : {}) }
  }
  if (b.late.length > late) return { ...base, outcome: 'late', code: 'LATE_DATA', reason: (b.late.at(-1) as ProcessedBatch['late'][number]).reason, to: p.lateTo }
  if (b.filtered > filtered) return { ...base, outcome: 'filtered' }
  if (b.tombstonesSkipped > skipped) return { ...base, outcome: 'skipped', reason: tombstoneSkipReason(p.recordPath) }
  // Nothing else grew: a tombstone or d event whose key the batch will delete (RecordPath keeps those until finish).
  return { ...base, outcome: 'delete', key: deletedKey(record, p.recordPath) }
}

function placeOf(r: SourceRecord): RecordPlace {
  return { topic: r.topic, partition: r.partitionNumber, offset: r.offset, ...(r.line === undefined ? {} : { line: r.line }) }
}

/** The values the table's columns get (as the sink maps fields: exact name, else case-insensitive); all fields when the columns are unknown. */
function columnValues(p: DryRunPipeline, values: RowValues): RowValues {
  if (p.columns === null || p.aggregate !== null) return values
  return Object.fromEntries(p.columns.map((c) => [c, fieldValue(values, c, c.toLowerCase()) ?? null]))
}

/** A tombstone followed in the same batch by a record of its key deletes nothing: the engine drops that delete. */
function markVoidDeletes(p: DryRunPipeline, outcomes: RecordOutcome[], processed: ProcessedBatch): void {
  const keys = p.recordPath.deleteKeys
  if (keys === null) return
  const keyText = (v: RowValues): string => JSON.stringify(keys.map((k) => fieldOf(v, k) ?? null))
  const kept = new Set(processed.deletes.map(keyText))
  outcomes.forEach((o, i) => {
    if (o.outcome === 'delete' && !kept.has(keyText(o.key))) outcomes[i] = { ...o, void: true }
  })
}

/** The aggregate step: a record that could not be folded is a dead letter; the others say which group they joined. */
function aggregateOutcomes(
  p: DryRunPipeline,
  spec: AggregateSpec,
  rows: readonly Row[],
  outcomes: RecordOutcome[],
  numberOf: ReadonlyMap<SourceRecord, number>,
  first: number,
): AggregateOutcome[] {
  const agg = aggregateRows(rows, spec)
  const at = (record: SourceRecord): number => (numberOf.get(record) as number) - first - 1
  for (const d of agg.dead) {
    const o = outcomes[at(d.record)] as RecordOutcome
    outcomes[at(d.record)] = { record: o.record, source: o.source, outcome: 'dead', code: d.code, reason: d.reason, to: p.dlqTo, ...(p.failFast ? { failFast: true as const } : {}) }
  }
  const keyColumns = Object.keys(agg.rows[0]?.values ?? {}).filter((c) => spec.groupBy.includes(c) || c === 'window_start' || c === 'window_end')
  return agg.rows.map((row) => {
    const members = agg.members.get(row) ?? [row.source]
    const group = Object.fromEntries(keyColumns.map((c) => [c, fieldOf(row.values, c)]))
    for (const m of members) {
      const o = outcomes[at(m)] as RecordOutcome
      outcomes[at(m)] = { record: o.record, source: o.source, outcome: 'aggregated', group }
    }
    return { outcome: 'aggregate' as const, row: row.values, records: members.map((m) => numberOf.get(m) as number) }
  })
}
