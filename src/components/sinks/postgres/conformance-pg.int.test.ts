// The Sink conformance suite on a real PostgreSQL server (pg driver), one schema per fixture.
import { sinkConformanceSuite } from '../../../../test/conformance/sink-suite.ts'
import { createPostgresSink } from './index.ts'
import { adminClient, freshSchema, pgLoadConfig, testContext } from './testing.ts'

export const EVENTS_DDL = 'CREATE TABLE events (id bigint primary key, name varchar(20) not null, amount numeric(12,2), ts timestamptz, payload jsonb)'

sinkConformanceSuite({
  name: 'postgres (pg driver)',
  async setup(options) {
    const admin = await adminClient()
    const schema = await freshSchema(admin, 'conf')
    await admin.query(`SET search_path TO "${schema}"`)
    await admin.query(EVENTS_DDL)
    const sink = createPostgresSink(pgLoadConfig(schema, options), testContext())
    return {
      sink,
      query: async (sql) => (await admin.query(sql)).rows,
      async teardown() {
        await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
        await admin.end()
      },
    }
  },
})
