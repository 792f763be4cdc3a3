/**
 * The generator source through the shared source conformance suite. The generator makes its own
 * values, so the fixture runs it at 1000 records/s on a fake clock: appending n values moves the
 * clock n ms on, which makes exactly the next n sequence numbers available, and the i-th appended
 * value is the value of the record with sequence number i. The generator ignores maxBytes (as
 * documented in streaming.maxBytesPerTrigger), so the suite only checks that the cap does no harm.
 */
import { nullLogger } from '../../../api/component.ts'
import type { SourceRecord } from '../../../api/record.ts'
import { sourceConformance } from '../../../../test/conformance/source-suite.ts'
import { GeneratorSource } from './generator-source.ts'

sourceConformance('generator (3 partitions, rate on a fake clock)', async () => {
  let now = 0
  const appended: string[] = []
  const source = new GeneratorSource(
    { sourceType: 'generator', rowsPerSecond: 1000, partitions: 3, seed: 7, fields: { id: { type: 'sequence' }, n: { type: 'int', min: 0, max: 9 } } },
    { pipelineId: 'conformance', baseDir: '.', logger: nullLogger, env: {} },
    { now: () => now },
  )
  return {
    source,
    async append(values) {
      appended.push(...values)
      now += values.length
    },
    textOf(record: SourceRecord) {
      return appended[(record.fields as { id: number }).id] ?? `missing ${record.partition}@${record.offset}`
    },
    async close() {},
    ignoresMaxBytes: true,
  }
})
