/**
 * `sourceType: generator`: synthetic, repeatable records for the quickstart, demos and benchmarks.
 */
import type { SourceDefinition } from '../../../api/component.ts'
import { type GeneratorExtractConfig, generatorExtractSchema } from './config.ts'
import { GeneratorSource } from './generator-source.ts'

export { GeneratorSource, GENERATOR_EPOCH_MS, DEFAULT_BATCH_CAP, type GeneratorSourceOptions } from './generator-source.ts'

/** The generator source kind for the component registry. */
export const generatorSource: SourceDefinition<GeneratorExtractConfig> = {
  type: 'generator',
  summary:
    'Synthetic records from a field spec (like Spark\'s rate source), at rowsPerSecond or as fast as possible, ' +
    'in `partitions` partitions; the same seed gives the same records, and record times start at 2026-01-01T00:00:00Z.',
  schema: generatorExtractSchema,
  describe(e) {
    const rate = e.rowsPerSecond === undefined ? 'as fast as possible' : `${e.rowsPerSecond} rows/s`
    return `generator ${Object.keys(e.fields).length} fields, ${rate}, ${e.totalRecords ?? 'unbounded'} records, seed ${e.seed}`
  },
  readLimits: () => ({}),
  metadata: 'generator',
  create(config, ctx) {
    return new GeneratorSource(config, ctx)
  },
}
