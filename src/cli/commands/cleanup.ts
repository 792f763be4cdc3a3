/** `sluice cleanup <pipeline.json>`: deletes batch_tracker rows older than the retention, keeping the newest. */
import { type Command, Option } from 'commander'
import { loadPipelineFile } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { retentionDays } from '../../runtime/cleanup-schedule.ts'
import { openDatabase } from '../../runtime/database.ts'
import { parseDays } from '../options.ts'
import { reportError } from '../report-error.ts'

export { retentionDays }

/** Adds the `cleanup` command. */
export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description('delete batch_tracker rows older than N days (never the newest row of the pipeline)')
    .argument('<pipeline>', 'pipeline JSON file')
    .addOption(new Option('--retention-days <n>', 'days to keep (default: BATCH_RETENTION_DAYS, else 30)').argParser(parseDays).env('BATCH_RETENTION_DAYS'))
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: { retentionDays?: number; json?: boolean }) => {
      const json = Boolean(flags.json)
      try {
        const days = flags.retentionDays ?? retentionDays(undefined, process.env)
        const { config, baseDir } = await loadPipelineFile(file)
        const db = await openDatabase(config, baseDir)
        try {
          const deleted = (await db.tracker.tablesExist()) ? await db.tracker.cleanupOldBatches(config.pipelineId, days) : 0
          if (json) process.stdout.write(`${JSON.stringify({ ok: true, pipelineId: config.pipelineId, retentionDays: days, deleted })}\n`)
          else process.stdout.write(`Cleaned up ${deleted} old batch records of ${config.pipelineId} (retention: ${days} days)\n`)
          process.exitCode = 0
        } finally {
          await db.close()
        }
      } catch (err) {
        process.exitCode = reportError(toSluiceError(err), json)
      }
    })
}
