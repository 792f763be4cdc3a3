/**
 * The engine's in-memory source through the shared source conformance suite: the engine's unit
 * tests lean on MemorySource behaving like a real source, so it is held to the same contract.
 */
import { sourceConformance } from '../../test/conformance/source-suite.ts'
import { MemorySource } from './testkit.ts'

sourceConformance('memory (3 partitions)', async () => {
  const source = new MemorySource([[], [], []])
  return {
    source,
    async append(values) {
      source.append(values)
    },
    async close() {},
  }
})
