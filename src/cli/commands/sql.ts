/** `sluice sql <pipeline.json> "<query>"`: a read-only query against the pipeline's database, printed as a table. */
import type { Command } from 'commander'
import { loadPipelineFile } from '../../config/index.ts'
import { SluiceError, toSluiceError } from '../../errors.ts'
import { readOnlyQuery } from '../../components/sinks/postgres/index.ts'
import { openDatabase } from '../../runtime/database.ts'
import { reportError } from '../report-error.ts'
import { formatTable } from '../table.ts'

/** Adds the `sql` command. */
export function registerSql(program: Command): void {
  program
    .command('sql')
    .description("run a read-only query against the pipeline's database (embedded or not) and print the rows")
    .argument('<pipeline>', 'pipeline JSON file')
    .argument('<query>', 'SQL query (runs in a READ ONLY transaction)')
    .option('--json', 'print rows as JSON')
    .action(async (file: string, query: string, flags: { json?: boolean }) => {
      const json = Boolean(flags.json)
      try {
        const { config, baseDir } = await loadPipelineFile(file)
        const db = await openDatabase(config, baseDir)
        try {
          const { rows } = await readOnlyQuery(db.driver, query, db.schema)
          process.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatTable(rows)}\n`)
          process.exitCode = 0
        } finally {
          await db.close()
        }
      } catch (err) {
        const error = toSluiceError(err)
        process.exitCode = reportError(error.code === 'INTERNAL' ? new SluiceError('CONFIG_INVALID', `query failed: ${error.message}`) : error, json)
      }
    })
}
