// The store conformance suite on a real PostgreSQL server (pg driver), one schema per test.
import { storeConformanceSuite } from '../../../../test/conformance/sink-suite.ts'
import { EVENTS_DDL, adminClient, freshSchema, pgLoadConfig, postgresStoreFixture } from './testing.ts'

storeConformanceSuite({
  name: 'postgres, pg driver',
  async setup(options) {
    const admin = await adminClient()
    const schema = await freshSchema(admin, 'conf')
    await admin.query(`SET search_path TO "${schema}"`)
    await admin.query(EVENTS_DDL)
    return postgresStoreFixture(
      pgLoadConfig(schema, options),
      async (sql) => (await admin.query(sql)).rows,
      async () => {
        await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
        await admin.end()
      },
    )
  },
})
