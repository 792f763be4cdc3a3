// The aggregate merge (TestBatch.merge) on embedded PGlite: see aggregate-merge.testkit.ts.
import { test } from 'node:test'
import { mergeScenario } from './aggregate-merge.testkit.ts'
import { TestSink, pgliteLoadConfig, tempDir, testContext } from './testing.ts'

test('aggregate partials merge by rule into PGlite, exactly once', async () => {
  const dir = tempDir('sluice-pglite-agg-')
  try {
    await mergeScenario(async (overrides, options) => {
      const sink = new TestSink(pgliteLoadConfig(dir.path, overrides), testContext(), options)
      await sink.open(AbortSignal.timeout(60_000))
      return sink
    })
  } finally {
    dir.remove()
  }
})
