// The Sink conformance suite on embedded PGlite, one temp data folder per fixture.
import { sinkConformanceSuite } from '../../../../test/conformance/sink-suite.ts'
import { createPgliteDriver } from './driver-pglite.ts'
import { createPostgresSink } from './index.ts'
import { pgliteLoadConfig, tempDir, testContext } from './testing.ts'

sinkConformanceSuite({
  name: 'postgres (pglite driver)',
  async setup(options) {
    const dir = tempDir('sluice-pglite-')
    const db = createPgliteDriver(dir.path)
    await db.query('CREATE TABLE events (id bigint primary key, name varchar(20) not null, amount numeric(12,2), ts timestamptz, payload jsonb)')
    const sink = createPostgresSink(pgliteLoadConfig(dir.path, options), testContext())
    return {
      sink,
      query: async (sql) => (await db.query(sql)).rows,
      async teardown() {
        await db.close()
        dir.remove()
      },
    }
  },
})
