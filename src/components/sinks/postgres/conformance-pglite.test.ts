// The store conformance suite on embedded PGlite: one data folder for the file, one schema per test
// (a PGlite start costs seconds; the schemas keep the tests apart just as well).
import { after } from 'node:test'
import { storeConformanceSuite } from '../../../../test/conformance/sink-suite.ts'
import { createPgliteDriver } from './driver-pglite.ts'
import { EVENTS_DDL, pgliteLoadConfig, postgresStoreFixture, tempDir } from './testing.ts'

const dir = tempDir('sluice-pglite-')
const db = createPgliteDriver(dir.path)
after(async () => {
  await db.close()
  dir.remove()
})
let schemas = 0

storeConformanceSuite({
  name: 'postgres, pglite driver',
  async setup(options) {
    const schema = `conf_${++schemas}`
    await db.query(`CREATE SCHEMA ${schema}`)
    await db.query(EVENTS_DDL.replace('CREATE TABLE events', `CREATE TABLE ${schema}.events`))
    return postgresStoreFixture(
      pgliteLoadConfig(dir.path, { ...options, connectionParams: { url: `pglite://${dir.path}`, currentSchema: schema } }),
      (sql) =>
        db.transaction(async (tx) => {
          await tx.query(`SET LOCAL search_path TO ${schema}`)
          return (await tx.query(sql)).rows
        }),
      async () => {
        await db.query(`DROP SCHEMA ${schema} CASCADE`)
      },
    )
  },
})
