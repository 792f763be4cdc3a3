/** `sluice sql` on embedded PGlite, through the CLI: one read-only statement, exact schema, columns, bytea, codes. */
import { after, before, describe } from 'node:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPgliteDriver } from '../../components/sinks/postgres/driver-pglite.ts'
import { seedSql, sqlSafetyCases, type SqlTarget } from './sql.testkit.ts'

describe('sluice sql on embedded PGlite', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sql-'))
  const dataDir = join(dir, 'db')
  let target: SqlTarget
  before(async () => {
    const db = createPgliteDriver(dataDir)
    try {
      for (const stmt of seedSql('Sales', 'sales')) await db.query(stmt)
    } finally {
      await db.close()
    }
    const file = join(dir, 'pipeline.json')
    writeFileSync(
      file,
      JSON.stringify({
        pipelineId: 'sql-pglite',
        mode: 'batch',
        extract: { sourceType: 'generator', totalRecords: 1, fields: { id: { type: 'sequence' } } },
        load: { sinkType: 'postgresql', table: 't', connectionParams: { url: 'pglite://db', currentSchema: 'Sales' } },
      }),
    )
    target = {
      file,
      async count() {
        const db = createPgliteDriver(dataDir)
        try {
          return Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "Sales".t')).rows[0]?.n)
        } finally {
          await db.close()
        }
      },
    }
  })
  after(() => rmSync(dir, { recursive: true, force: true }))
  sqlSafetyCases(() => target)
})
