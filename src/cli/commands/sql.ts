/** `sluice sql <pipeline.json> "<query>"`: one read-only statement against the pipeline's database, printed as a table or JSON. */
import type { Command } from 'commander'
import { loadPipelineFile } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { checkReadOnly, queryFailure, readOnlyQuery, rowObjects } from '../../components/sinks/postgres/read-only.ts'
import { openDatabase } from '../../runtime/database.ts'
import { reportError } from '../report-error.ts'
import { formatTable, jsonValue } from '../table.ts'

/** Adds the `sql` command. */
export function registerSql(program: Command): void {
  program
    .command('sql')
    .description("run one read-only statement (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW) against the pipeline's database (embedded or not) and print the rows")
    .argument('<pipeline>', 'pipeline JSON file')
    .argument('<query>', 'one SQL statement (runs in a READ ONLY transaction; the pipeline schema comes first on the search path)')
    .option('--json', 'print rows as JSON (bytea as "\\x..." hex; a repeated column name gets _2, _3 ...)')
    .action(async (file: string, query: string, flags: { json?: boolean }) => {
      const json = Boolean(flags.json)
      try {
        const { config, baseDir } = await loadPipelineFile(file)
        // Refused before connecting: a write never reaches the database.
        checkReadOnly(query)
        const db = await openDatabase(config, baseDir)
        try {
          const result = await readOnlyQuery(db.driver, query, db.schema).catch((err: unknown) => {
            throw queryFailure(err, db.secrets)
          })
          const out = json ? JSON.stringify(rowObjects({ columns: result.columns, rows: result.rows.map((r) => r.map(jsonValue)) }), null, 2) : formatTable(result.columns, result.rows)
          process.stdout.write(`${out}\n`)
          process.exitCode = 0
        } finally {
          await db.close()
        }
      } catch (err) {
        process.exitCode = reportError(toSluiceError(err), json)
      }
    })
}
