/**
 * `sluice dlq list|show|replay <pipeline.json>`: the pipeline's dead letters from its DLQ (a
 * PostgreSQL table, or a Kafka topic read_committed). list and show only read: by code, time and
 * source position, and one with its original key, value and headers (text for reading, the exact
 * bytes as base64 in --json). replay sends selected ones through the pipeline's current record
 * path into the target table, exactly once (src/runtime/dlq-replay.ts).
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { loadPipelineFile, type PipelineConfig } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { type DeadLetterEntry, type DlqFilter, type DlqListing, type ReplayState, ID_SHAPES, entryJson, utf8Text } from '../../runtime/dlq-entry.ts'
import { listTableDeadLetters, showTableDeadLetter } from '../../runtime/dlq-table.ts'
import { listTopicDeadLetters, showTopicDeadLetter } from '../../runtime/dlq-topic.ts'
import { openDatabase } from '../../runtime/database.ts'
import { pipelineRoutes } from '../../runtime/routes.ts'
import { reportError } from '../report-error.ts'
import { readMarks } from '../../runtime/dlq-replay-marks.ts'
import { type ReplayReport, type ReplayResult, type ReplaySelection, replayDeadLetters } from '../../runtime/dlq-replay.ts'
import { replayFromTable } from '../../runtime/dlq-replay-table.ts'
import { replayFromTopic } from '../../runtime/dlq-replay-topic.ts'
import type { ReplayVerdict } from '../../runtime/dlq-replay-path.ts'

interface ListFlags {
  code?: string
  since?: number
  until?: number
  limit: number
  all?: boolean
  json?: boolean
}

interface ReplayFlags {
  code?: string
  since?: number
  until?: number
  ids?: string[]
  dryRun?: boolean
  batchSize: number
  json?: boolean
}

function parseTime(value: string): number {
  const v = value.trim()
  const ms = /^-?\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('must be an ISO-8601 time (2026-11-25T10:00:00Z) or epoch milliseconds')
  return ms
}

function parseLimit(value: string): number {
  const n = Number(value.trim())
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number, 1 or more')
  return n
}

function parseIds(value: string): string[] {
  const ids = value.split(',').map((v) => v.trim()).filter((v) => v.length > 0)
  if (ids.length === 0) throw new InvalidArgumentError('must list at least one id (as `sluice dlq list` prints them), separated by commas')
  return ids
}

/** Adds `dlq list`, `dlq show` and `dlq replay`. */
export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description("look at a pipeline's dead letters, and replay them")
  dlq
    .command('list')
    .description('list dead letters: id, code, time, source position, reason; and the count by code')
    .argument('<pipeline>', 'pipeline JSON file')
    .option('--code <code>', 'only this error code (RECORD_SCHEMA, LATE_DATA, ...)', (v) => v.trim().toUpperCase())
    .addOption(new Option('--since <time>', 'failed at or after (ISO-8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--until <time>', 'failed before (ISO-8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--limit <n>', 'at most n, oldest first').argParser(parseLimit).default(100))
    .option('--all', 'also the dead letters `sluice dlq replay` landed (hidden by default)')
    .option('--json', 'machine-readable output (key, value and headers as base64, plus text when UTF-8)')
    .action(async (file: string, flags: ListFlags) => {
      process.exitCode = await listCommand(file, flags)
    })
  dlq
    .command('show')
    .description('show one dead letter with its original key, value and headers')
    .argument('<pipeline>', 'pipeline JSON file')
    .argument('<id>', 'the id `sluice dlq list` prints')
    .option('--json', 'machine-readable output (the exact bytes as base64)')
    .action(async (file: string, id: string, flags: { json?: boolean }) => {
      process.exitCode = await showCommand(file, id, Boolean(flags.json))
    })
  dlq
    .command('replay')
    .description("replay dead letters through the pipeline's current decode, schema and steps into its table, exactly once")
    .argument('<pipeline>', 'pipeline JSON file')
    .option('--code <code>', 'only this error code (RECORD_SCHEMA, LATE_DATA, ...)', (v) => v.trim().toUpperCase())
    .addOption(new Option('--since <time>', 'failed at or after (ISO-8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--until <time>', 'failed before (ISO-8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--ids <ids>', 'only these, comma-separated, as `sluice dlq list` prints them').argParser(parseIds))
    .option('--dry-run', 'print what each would become; write nothing')
    .addOption(new Option('--batch-size <n>', 'dead letters per transaction').argParser(parseLimit).default(1000))
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: ReplayFlags) => {
      process.exitCode = await replayCommand(file, flags)
    })
  dlq.exitOverride()
  for (const c of dlq.commands) c.exitOverride()
}

/** Reads from the pipeline's DLQ, a table or a topic. */
async function fromDlq<T>(
  config: PipelineConfig,
  baseDir: string,
  table: (db: Awaited<ReturnType<typeof openDatabase>>, name: string) => Promise<T>,
  topic: (name: string, marks: ReadonlyMap<string, ReplayState>) => Promise<T>,
): Promise<T> {
  const { dlq } = pipelineRoutes(config)
  const db = await openDatabase(config, baseDir)
  try {
    // A Kafka DLQ's replay marks are in the database (dlq-replay-marks.ts).
    if (dlq.kind === 'topic') return await topic(dlq.topic, await readMarks(db.driver, { schema: db.schema, pipelineId: config.pipelineId, topic: dlq.topic }))
    return await table(db, dlq.table)
  } finally {
    await db.close()
  }
}

async function listCommand(file: string, flags: ListFlags): Promise<number> {
  const json = Boolean(flags.json)
  try {
    const { config, baseDir } = await loadPipelineFile(file)
    const filter: DlqFilter = { limit: flags.limit, includeReplayed: Boolean(flags.all), ...(flags.code ? { code: flags.code } : {}), ...(flags.since === undefined ? {} : { since: flags.since }), ...(flags.until === undefined ? {} : { until: flags.until }) }
    const listing = await fromDlq(
      config,
      baseDir,
      (db, table) => listTableDeadLetters(db, config.pipelineId, table, filter),
      (topic, marks) => listTopicDeadLetters(config, baseDir, topic, filter, process.env, marks),
    )
    if (json) process.stdout.write(`${JSON.stringify({ pipelineId: config.pipelineId, dlq: listing.where, byCode: listing.byCode, more: listing.more, deadLetters: listing.entries.map(entryJson) }, null, 2)}\n`)
    else printListing(config.pipelineId, listing)
    return 0
  } catch (err) {
    return reportError(toSluiceError(err), json)
  }
}

async function showCommand(file: string, id: string, json: boolean): Promise<number> {
  try {
    const { config, baseDir } = await loadPipelineFile(file)
    const entry = await fromDlq(
      config,
      baseDir,
      (db, table) => showTableDeadLetter(db, config.pipelineId, table, id),
      (topic, marks) => showTopicDeadLetter(config, baseDir, topic, id, process.env, marks),
    )
    if (entry === null) {
      // Not an error of Sluice's: the id names nothing (any more). Exit 1, as grep does for no match.
      const kind = pipelineRoutes(config).dlq.kind
      const why = `no dead letter ${id} of pipeline ${config.pipelineId} in its DLQ (ids look like ${ID_SHAPES[kind]}: see sluice dlq list)`
      if (json) process.stdout.write(`${JSON.stringify({ ok: false, found: false, id, message: why })}\n`)
      else process.stderr.write(`sluice: ${why}\n`)
      return 1
    }
    if (json) process.stdout.write(`${JSON.stringify(entryJson(entry), null, 2)}\n`)
    else printEntry(entry)
    return 0
  } catch (err) {
    return reportError(toSluiceError(err), json)
  }
}

function printListing(pipelineId: string, l: DlqListing): void {
  const out = process.stdout
  const total = Object.values(l.byCode).reduce((a, n) => a + n, 0)
  out.write(`${pipelineId}: ${total} dead letter(s) in ${l.where}${total > 0 ? ` (${Object.entries(l.byCode).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}\n`)
  for (const e of l.entries) {
    out.write(`${e.id}  ${e.failedAt}  ${e.code}  batch ${e.batchId}  from ${e.source.topic}/${e.source.partition}@${e.source.offset}: ${e.reason}${replayNote(e.replay)}\n`)
  }
  if (l.more) out.write(`(more: showing the first ${l.entries.length}; use --limit, --code, --since, --until)\n`)
}

/** " [replayed 2026-... as row]", " [replay failed 2x: CODE reason]", or nothing. */
function replayNote(r: ReplayState | undefined): string {
  if (r === undefined) return ''
  if (r.replayedAt !== null) return `  [replayed ${r.replayedAt} as ${r.replayedAs ?? 'row'}]`
  return `  [replay failed ${r.attempts}x, last ${r.triedAt}: ${r.code ?? ''}: ${r.reason ?? ''}]`
}

/** Bytes as text when they are UTF-8, else base64 (said so). */
function shown(b: Buffer | null): string {
  if (b === null) return '(null)'
  const text = utf8Text(b)
  return text === null ? `(not UTF-8, ${b.length} bytes, base64) ${b.toString('base64')}` : text
}

function printEntry(e: DeadLetterEntry): void {
  const out = process.stdout
  out.write(`id         ${e.id}\ncode       ${e.code}\nreason     ${e.reason}\nfailed at  ${e.failedAt}\nbatch      ${e.batchId}\n`)
  out.write(`source     ${e.source.topic} partition ${e.source.partition} offset ${e.source.offset}\n`)
  out.write(`key        ${shown(e.key)}\nvalue      ${shown(e.value)}\n`)
  if (e.replay?.replayedAt != null) out.write(`replayed   ${e.replay.replayedAt} as ${e.replay.replayedAs ?? 'row'}\n`)
  if (e.replay?.code != null) out.write(`replay     failed ${e.replay.attempts}x, last ${e.replay.triedAt}: ${e.replay.code}: ${e.replay.reason ?? ''}\n`)
  if (e.headers.length === 0) out.write('headers    (none)\n')
  for (const [name, value] of e.headers) out.write(`header     ${name}: ${shown(value)}\n`)
}

async function replayCommand(file: string, flags: ReplayFlags): Promise<number> {
  const json = Boolean(flags.json)
  try {
    const { config, baseDir } = await loadPipelineFile(file)
    const selection: ReplaySelection = {
      ...(flags.code ? { code: flags.code } : {}),
      ...(flags.since === undefined ? {} : { since: flags.since }),
      ...(flags.until === undefined ? {} : { until: flags.until }),
      ...(flags.ids === undefined ? {} : { ids: flags.ids }),
    }
    const dryRun = Boolean(flags.dryRun)
    const results: ReplayResult[] = []
    const seen = new Set<string>()
    const { dlq } = pipelineRoutes(config)
    const report = await replayDeadLetters(config, baseDir, {
      selection,
      dryRun,
      batchSize: flags.batchSize,
      env: process.env,
      onResults: (r) => {
        for (const x of r) seen.add(x.entry.id)
        if (json) results.push(...r)
        else for (const x of r) process.stdout.write(`${x.entry.id}: ${verdictText(x.verdict, dryRun)}\n`)
      },
    }, dlq.kind === 'table' ? replayFromTable(dlq.table) : replayFromTopic(dlq.topic))
    const missing = (flags.ids ?? []).filter((id) => !seen.has(id))
    if (json) {
      process.stdout.write(`${JSON.stringify({ pipelineId: config.pipelineId, ...report, ...(flags.ids ? { notReplayed: missing } : {}), deadLetters: results.map((r) => ({ id: r.entry.id, source: r.entry.source, original: { code: r.entry.code, reason: r.entry.reason }, ...r.verdict })) }, null, 2)}\n`)
    } else {
      printReplaySummary(config.pipelineId, report)
      if (missing.length > 0) process.stdout.write(`not replayed (no such dead letter, not selected, or replayed before): ${missing.join(', ')}\n`)
    }
    return Object.keys(report.failed).length > 0 ? 1 : 0
  } catch (err) {
    return reportError(toSluiceError(err), json)
  }
}

function verdictText(v: ReplayVerdict, dry: boolean): string {
  const lands = dry ? 'would land' : 'landed'
  switch (v.outcome) {
    case 'row':
      return `${lands} as row ${JSON.stringify(v.row)}`
    case 'filtered':
      return `filtered by a step (${dry ? 'would be marked' : 'marked'} replayed)`
    case 'deleted':
      return `${dry ? 'would delete' : 'deleted'} ${JSON.stringify(v.key)}`
    case 'skipped':
      return `skipped: ${v.reason}`
    case 'failed':
      return `still failing ${v.code}: ${v.reason} (stays in the DLQ)`
  }
}

function printReplaySummary(pipelineId: string, r: ReplayReport): void {
  const failed = Object.values(r.failed).reduce((a, n) => a + n, 0)
  const codes = failed > 0 ? ` (${Object.entries(r.failed).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''
  const verb = r.dryRun ? 'would be replayed' : 'replayed'
  const tail = r.dryRun ? ' (dry run: nothing written)' : ` in ${r.transactions} transaction(s)`
  process.stdout.write(`${pipelineId}: from ${r.where}: ${r.replayed} ${verb}, ${failed} still failing${codes}${tail}\n`)
}
