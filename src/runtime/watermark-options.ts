/**
 * The record path's watermark as a run and `sluice test` apply it: the config's column and delay,
 * the per-partition rule and idleness only when set (absent: the engine's defaults), and which input
 * is late, which depends on the aggregate step and the output mode (Spark's rule, lateness-rule.ts).
 */
import type { OutputMode, WatermarkConfig } from '../config/types.ts'
import type { AggregateSpec } from '../engine/aggregate.ts'
import { latenessRule } from '../engine/lateness-rule.ts'
import type { RecordPathOptions } from '../engine/records.ts'

export function watermarkOptions(w: WatermarkConfig, aggregate: AggregateSpec | undefined, outputMode: OutputMode): NonNullable<RecordPathOptions['watermark']> {
  return {
    column: w.eventTimeColumn,
    delayMs: w.delayThreshold,
    ...(w.perPartition === undefined ? {} : { perPartition: w.perPartition }),
    ...(w.idleTimeout === undefined ? {} : { idleMs: w.idleTimeout }),
    lateness: latenessRule(aggregate, outputMode, w.eventTimeColumn),
  }
}
