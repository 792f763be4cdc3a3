/** `sluice sql` on a PostgreSQL server, through the CLI: the same cases as on PGlite (sql.testkit.ts). */
import { after, before, describe } from 'node:test'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { pgSettings, pgUrl } from '../../../test/helpers/pg.ts'
import { writePipeline } from '../../../test/helpers/cli.ts'
import { seedSql, sqlSafetyCases, type SqlTarget } from './sql.testkit.ts'

describe('sluice sql on a PostgreSQL server', { timeout: 180_000 }, () => {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const upper = `Sql_${suffix}`
  const lower = upper.toLowerCase()
  const admin = new pg.Client(pgSettings())
  let target: SqlTarget
  before(async () => {
    await admin.connect()
    for (const stmt of seedSql(upper, lower)) await admin.query(stmt)
    const { file } = await writePipeline({
      pipelineId: `sql-server-${suffix}`,
      mode: 'batch',
      extract: { sourceType: 'generator', totalRecords: 1, fields: { id: { type: 'sequence' } } },
      load: { sinkType: 'postgresql', table: 't', connectionParams: { url: pgUrl(), currentSchema: upper } },
    })
    target = {
      file,
      async count() {
        return Number((await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${upper}".t`)).rows[0]?.n)
      },
    }
  })
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${upper}" CASCADE`)
    await admin.query(`DROP SCHEMA IF EXISTS "${lower}" CASCADE`)
    await admin.end()
  })
  sqlSafetyCases(() => target)
})
