/**
 * `sluice dlq list|show <pipeline.json>`: the pipeline's dead letters, read-only, from its DLQ (a
 * PostgreSQL table in a READ ONLY transaction, or a Kafka topic read_committed): by code, time and
 * source position, and one with its original key, value and headers (text for reading, the exact
 * bytes as base64 in --json). Replay is not here yet.
 */
import { type Command, InvalidArgumentError, Option } from 'commander'
import { loadPipelineFile, type PipelineConfig } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { type DeadLetterEntry, type DlqFilter, type DlqListing, ID_SHAPES, entryJson, utf8Text } from '../../runtime/dlq-entry.ts'
import { listTableDeadLetters, showTableDeadLetter } from '../../runtime/dlq-table.ts'
import { listTopicDeadLetters, showTopicDeadLetter } from '../../runtime/dlq-topic.ts'
import { openDatabase } from '../../runtime/database.ts'
import { pipelineRoutes } from '../../runtime/routes.ts'
import { reportError } from '../report-error.ts'

interface ListFlags {
  code?: string
  since?: number
  until?: number
  limit: number
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

/** Adds `dlq list` and `dlq show`. */
export function registerDlq(program: Command): void {
  const dlq = program.command('dlq').description("look at a pipeline's dead letters (read-only)")
  dlq
    .command('list')
    .description('list dead letters: id, code, time, source position, reason; and the count by code')
    .argument('<pipeline>', 'pipeline JSON file')
    .option('--code <code>', 'only this error code (RECORD_SCHEMA, LATE_DATA, ...)', (v) => v.trim().toUpperCase())
    .addOption(new Option('--since <time>', 'failed at or after (ISO-8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--until <time>', 'failed before (ISO-8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--limit <n>', 'at most n, oldest first').argParser(parseLimit).default(100))
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
  dlq.exitOverride()
  for (const c of dlq.commands) c.exitOverride()
}

/** Reads from the pipeline's DLQ, a table or a topic. */
async function fromDlq<T>(config: PipelineConfig, baseDir: string, table: (db: Awaited<ReturnType<typeof openDatabase>>, name: string) => Promise<T>, topic: (name: string) => Promise<T>): Promise<T> {
  const { dlq } = pipelineRoutes(config)
  if (dlq.kind === 'topic') return topic(dlq.topic)
  const db = await openDatabase(config, baseDir)
  try {
    return await table(db, dlq.table)
  } finally {
    await db.close()
  }
}

async function listCommand(file: string, flags: ListFlags): Promise<number> {
  const json = Boolean(flags.json)
  try {
    const { config, baseDir } = await loadPipelineFile(file)
    const filter: DlqFilter = { limit: flags.limit, ...(flags.code ? { code: flags.code } : {}), ...(flags.since === undefined ? {} : { since: flags.since }), ...(flags.until === undefined ? {} : { until: flags.until }) }
    const listing = await fromDlq(
      config,
      baseDir,
      (db, table) => listTableDeadLetters(db, config.pipelineId, table, filter),
      (topic) => listTopicDeadLetters(config, baseDir, topic, filter, process.env),
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
      (topic) => showTopicDeadLetter(config, baseDir, topic, id, process.env),
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
    out.write(`${e.id}  ${e.failedAt}  ${e.code}  batch ${e.batchId}  from ${e.source.topic}/${e.source.partition}@${e.source.offset}: ${e.reason}\n`)
  }
  if (l.more) out.write(`(more: showing the first ${l.entries.length}; use --limit, --code, --since, --until)\n`)
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
  if (e.headers.length === 0) out.write('headers    (none)\n')
  for (const [name, value] of e.headers) out.write(`header     ${name}: ${shown(value)}\n`)
}
