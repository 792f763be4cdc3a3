/**
 * What the record path takes from a pipeline config, in one place for `run` (assemble.ts), `sluice
 * test` (dry-run.ts) and `sluice dlq replay` (dlq-replay-path.ts), so the three treat a record alike:
 * the per-row transform (the row steps, then the load's columnMapping), the fields something reads
 * (for the record metadata), what deletes, the envelope the source's values are in, and the routing by topic.
 */
import type { ValueEnvelope } from '../api/source.ts'
import { sourceFor } from '../components/registry.ts'
import { type RowTransform, composeTransforms, fieldsRead, splitSteps, withRoots } from '../components/transforms/index.ts'
import type { PipelineConfig } from '../config/index.ts'
import type { RecordPathOptions } from '../engine/records.ts'
import { topicRouting } from '../components/sinks/postgres/index.ts'

/** The row steps and the column mapping composed, or null when there are neither. */
export function rowTransform(config: PipelineConfig): RowTransform | null {
  const { rowSteps } = splitSteps(config.transform)
  const mapping = config.load.columnMapping
  return rowSteps.length > 0 || mapping !== undefined ? composeTransforms(rowSteps, mapping) : null
}

/** The fields the steps, the watermark, the column mapping and the upsert keys read. */
export function fieldsReferenced(config: PipelineConfig): string[] {
  const watermark = config.streamingConfigJson?.watermark
  const paths = [...(watermark ? [watermark.eventTimeColumn] : []), ...Object.values(config.load.columnMapping ?? {})]
  return [...fieldsRead(config.transform), ...withRoots(paths), ...(config.load.upsertKeys ?? [])]
}

/**
 * The key columns deletes match, or null when nothing deletes: tombstones with deleteOnTombstone,
 * and a Debezium source's `d` events whether or not deleteOnTombstone is set (the config requires
 * upsert keys with the `debezium` envelope).
 */
export function deleteKeys(config: PipelineConfig): readonly string[] | null {
  if (config.load.writeMode !== 'upsert') return null
  return config.load.deleteOnTombstone || valueEnvelope(config) === 'debezium' ? (config.load.upsertKeys ?? []) : null
}

/** The upsert key columns the column mapping fills from a path, for tombstone deletes (records.ts deleteKeyPaths). */
export function deleteKeyPaths(config: PipelineConfig): Pick<RecordPathOptions, 'deleteKeyPaths'> {
  const keys = deleteKeys(config)
  const mapping = config.load.columnMapping
  if (keys === null || mapping === undefined) return {}
  const paths = Object.fromEntries(keys.filter((k) => Object.hasOwn(mapping, k)).map((k) => [k, mapping[k] as string]))
  return Object.keys(paths).length === 0 ? {} : { deleteKeyPaths: paths }
}

/** The envelope the source's JSON values are in (extract.envelope), `none` for a source without one. */
export function valueEnvelope(config: PipelineConfig): ValueEnvelope {
  return sourceFor(config.extract).envelope?.(config.extract) ?? 'none'
}

/** Routing by topic (a `{topic}` template in load.table): deletes kept per topic, unroutable topics to the DLQ. */
export function routingOption(config: PipelineConfig): Pick<RecordPathOptions, 'routing'> {
  const routing = topicRouting(config.load.table)
  return routing === null ? {} : { routing }
}
