/**
 * `sluice reset <pipeline.json> --to earliest|latest|<ISO time>|<positions JSON> [--dry-run]`: moves
 * the pipeline's stored source positions in one transaction (runtime/reset.ts), printing each
 * partition before and after; refused while a worker of the pipeline runs (PIPELINE_RUNNING).
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import type { ResetTarget } from '../../api/reset.ts'
import { loadPipelineFile } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { type ResetReport, resetPipeline } from '../../runtime/reset.ts'
import { ResetTargetError, parseResetTarget } from '../../runtime/reset-target.ts'
import { reportError } from '../report-error.ts'

interface ResetFlags {
  to: ResetTarget
  dryRun?: boolean
  keepWatermark?: boolean
  json?: boolean
}

/** `--to` for commander: a bad value is a usage error (exit 2) naming what is wrong. */
function parseTo(value: string): ResetTarget {
  try {
    return parseResetTarget(value)
  } catch (err) {
    throw new InvalidArgumentError((err as ResetTargetError).message)
  }
}

/** Adds the `reset` command. */
export function registerReset(program: Command): void {
  program
    .command('reset')
    .description("move a pipeline's stored source positions (no worker of it may be running)")
    .argument('<pipeline>', 'pipeline JSON file')
    .addOption(
      new Option('--to <target>', 'earliest, latest, an ISO-8601 time (2026-11-25T10:00:00Z), or positions as JSON ({"orders/0": 120}; partitions not named keep theirs)')
        .argParser(parseTo)
        .makeOptionMandatory(),
    )
    .option('--dry-run', 'print each partition before and after, write nothing')
    .option('--keep-watermark', 'keep the stored watermark (default: clear it, so records read again are not late by the old one)')
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: ResetFlags) => {
      process.exitCode = await resetCommand(file, flags)
    })
}

async function resetCommand(file: string, flags: ResetFlags): Promise<number> {
  const json = Boolean(flags.json)
  try {
    const { config, baseDir } = await loadPipelineFile(file)
    const report = await resetPipeline(config, baseDir, { target: flags.to, dryRun: Boolean(flags.dryRun), keepWatermark: Boolean(flags.keepWatermark) })
    if (json) process.stdout.write(`${JSON.stringify({ ok: true, ...report }, null, 2)}\n`)
    else printReport(report)
    return 0
  } catch (err) {
    return reportError(toSluiceError(err), json)
  }
}

function when(ms: number | null): string {
  return ms === null ? 'none' : new Date(ms).toISOString()
}

function printReport(r: ResetReport): void {
  const out = process.stdout
  const moved = r.partitions.filter((p) => p.changed).length
  if (r.dryRun) out.write(`${r.pipelineId}: dry run of a reset to ${r.target} in ${r.database}: nothing written; ${moved} partition(s) would move (as batch ${r.batchId})\n`)
  else if (r.applied) out.write(`${r.pipelineId}: reset to ${r.target} in ${r.database}: ${moved} partition(s) moved, recorded as batch ${r.batchId}\n`)
  else out.write(`${r.pipelineId}: nothing to change: every partition already stands at ${r.target}\n`)
  if (r.partitions.length > 0) {
    const width = Math.max(9, ...r.partitions.map((p) => p.partition.length))
    out.write(`\n${'partition'.padEnd(width)}  ${'before'.padStart(12)}  ${'after'.padStart(12)}\n`)
    for (const p of r.partitions) {
      const mark = p.changed ? '' : '  (unchanged)'
      out.write(`${p.partition.padEnd(width)}  ${(p.before ?? '-').padStart(12)}  ${(p.after ?? '-').padStart(12)}${mark}\n`)
    }
    if (r.partitions.some((p) => p.before === null || p.after === null)) out.write('(-: no stored position; the next run reads that partition as new)\n')
  }
  if (r.watermarkBefore !== r.watermarkAfter) out.write(`watermark  ${when(r.watermarkBefore)} -> ${when(r.watermarkAfter)}\n`)
  if (r.dryRun && r.running) out.write('note: a worker of this pipeline is running now; the reset itself would be refused (PIPELINE_RUNNING)\n')
}
