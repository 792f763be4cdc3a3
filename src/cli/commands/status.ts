/** `sluice status <pipeline.json>`: the last batch, its time and records, positions and lag, from the database. */
import type { Command } from 'commander'
import { nullLogger } from '../../api/component.ts'
import { sourceFor } from '../../components/registry.ts'
import { loadPipelineFile } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { outboxBacklog } from '../../components/kafka/outbox/backlog.ts'
import { openDatabase } from '../../runtime/database.ts'
import { reportError } from '../report-error.ts'

interface PartitionStatus {
  partition: string
  position: string
  latest: string | null
  lag: number | null
  batchId: number
  updatedAt: string
}

/** Adds the `status` command. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the committed state of a pipeline: last batch, records, positions and lag')
    .argument('<pipeline>', 'pipeline JSON file')
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: { json?: boolean }) => {
      process.exitCode = await statusCommand(file, Boolean(flags.json))
    })
}

async function statusCommand(file: string, json: boolean): Promise<number> {
  try {
    const { config, baseDir } = await loadPipelineFile(file)
    const db = await openDatabase(config, baseDir)
    try {
      const present = await db.tracker.tablesExist()
      const status = present ? await db.tracker.readStatus(config.pipelineId) : null
      // Dead letters and late records committed for Kafka but not yet published (docs/dead-letters.md).
      const outbox = await outboxBacklog(db.driver, db.schema, config.pipelineId)
      const latest = await latestPositions(config, baseDir)
      const partitions: PartitionStatus[] = (status?.positions ?? []).map((p) => {
        const end = latest?.[p.partition] ?? null
        const lag = end !== null && /^\d+$/.test(end) && /^\d+$/.test(p.position) ? Number(BigInt(end) - BigInt(p.position)) : null
        return { partition: p.partition, position: p.position, latest: end, lag, batchId: p.batchId, updatedAt: p.updatedAt.toISOString() }
      })
      const report = {
        pipelineId: config.pipelineId,
        database: db.display,
        lastBatchId: status?.lastBatchId ?? null,
        processedAt: status?.processedAt?.toISOString() ?? null,
        recordCount: status?.recordCount ?? null,
        watermark: status?.watermarkMs != null ? new Date(status.watermarkMs).toISOString() : null,
        totalLag: partitions.every((p) => p.lag !== null) ? partitions.reduce((a, p) => a + (p.lag ?? 0), 0) : null,
        partitions,
        outbox: { pending: outbox.rows, topics: outbox.topics, oldest: outbox.oldestMs === null ? null : new Date(outbox.oldestMs).toISOString() },
      }
      if (json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
      } else {
        const out = process.stdout
        out.write(`pipeline   ${report.pipelineId}\ndatabase   ${report.database}\n`)
        if (report.lastBatchId === null) {
          out.write('last batch none (the pipeline has not committed a batch yet)\n')
        } else {
          out.write(`last batch ${report.lastBatchId} at ${report.processedAt} (${report.recordCount} records)\n`)
        }
        if (report.watermark) out.write(`watermark  ${report.watermark}\n`)
        if (outbox.rows > 0) {
          const where = Object.entries(outbox.topics).map(([topic, n]) => `${n} for ${topic}`).join(', ')
          out.write(`outbox     ${outbox.rows} dead-letter/late record(s) not yet published to Kafka (${where}), oldest from ${report.outbox.oldest}\n`)
        }
        if (partitions.length > 0) {
          out.write('\npartition                      position      latest         lag\n')
          for (const p of partitions) {
            out.write(`${p.partition.padEnd(30)} ${p.position.padStart(10)} ${String(p.latest ?? '-').padStart(11)} ${String(p.lag ?? '-').padStart(11)}\n`)
          }
          if (report.totalLag !== null) out.write(`total lag ${report.totalLag}\n`)
        }
      }
      return 0
    } finally {
      await db.close()
    }
  } catch (err) {
    return reportError(toSluiceError(err), json)
  }
}

/** The source's latest positions, or null when it cannot tell (lag is then unknown). */
async function latestPositions(config: Awaited<ReturnType<typeof loadPipelineFile>>['config'], baseDir: string): Promise<Record<string, string> | null> {
  const source = sourceFor(config.extract).create(config.extract, { pipelineId: config.pipelineId, baseDir, logger: nullLogger, env: process.env })
  if (!source.latest) return null
  const signal = AbortSignal.timeout(10_000)
  try {
    await source.open(signal)
    return { ...(await source.latest(signal)) }
  } catch {
    return null
  } finally {
    await source.close().catch(() => {})
  }
}
