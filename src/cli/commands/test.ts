/**
 * `sluice test <pipeline.json> [--input file.ndjson] [--expect expected.ndjson]`: what each sample
 * record becomes (row, dead letter, late, filtered...) through the pipeline's decode, schema,
 * steps and watermark, writing nothing (src/runtime/dry-run.ts). With --expect it is a CI check:
 * exit 1 and the differences when the output is not what the file says.
 */
import { sourceFor } from '../../components/registry.ts'
import { readFile } from 'node:fs/promises'
import { type Command, InvalidArgumentError, Option } from 'commander'
import type { SourceRecord } from '../../api/record.ts'
import { loadPipelineFile } from '../../config/index.ts'
import { SluiceError, toSluiceError } from '../../errors.ts'
import { type DryRunLine, dryRun, dryRunPipeline } from '../../runtime/dry-run.ts'
import { compareExpected, lineJson, parseExpected } from '../../runtime/dry-run-expect.ts'
import { INPUT_FORMATS, type InputFormat, parseInput } from '../../runtime/dry-run-input.ts'
import { inputTopic, sampleSource } from '../../runtime/dry-run-source.ts'
import { reportError } from '../report-error.ts'

interface TestFlags {
  input?: string
  inputFormat: InputFormat
  expect?: string
  limit: number
  batchSize?: number
  watermark?: number
  json?: boolean
}

/** A whole number, 1 or more. */
function parseCount(value: string): number {
  const n = Number(value.trim())
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number, 1 or more')
  return n
}

/** An ISO-8601 time or epoch milliseconds. */
function parseTime(value: string): number {
  const v = value.trim()
  const ms = /^-?\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('must be an ISO-8601 time (2026-11-25T10:00:00Z) or epoch milliseconds')
  return ms
}

/** Adds the `test` command. */
export function registerTest(program: Command): void {
  program
    .command('test')
    .description('show what sample records become (row, dead letter, late, filtered) without writing anything; --expect checks it')
    .argument('<pipeline>', 'pipeline JSON file')
    .option('--input <file>', 'NDJSON sample records (default: the first --limit records of the source, read-only)')
    .addOption(new Option('--input-format <format>', 'a line is a value, a record envelope {key, value, headers, timestamp, topic, partition, offset}, or auto').choices(INPUT_FORMATS).default('auto'))
    .option('--expect <file>', 'NDJSON of what each record must become (the --json format; members left out are not compared): exit 1 on any difference')
    .addOption(new Option('--limit <n>', 'records to read from the source without --input').argParser(parseCount).default(10))
    .addOption(new Option('--batch-size <n>', 'records per micro-batch, so that later batches apply the watermark earlier ones set (default: one batch)').argParser(parseCount))
    .addOption(new Option('--watermark <time>', 'the watermark the first batch applies, as if earlier batches had set it').argParser(parseTime))
    .option('--json', 'one JSON object per record (NDJSON), the format of --expect')
    .action(async (file: string, flags: TestFlags) => {
      process.exitCode = await testCommand(file, flags)
    })
}

async function testCommand(file: string, flags: TestFlags): Promise<number> {
  const json = Boolean(flags.json)
  try {
    const { config, baseDir } = await loadPipelineFile(file)
    const pipeline = await dryRunPipeline(config, baseDir)
    const expected = flags.expect === undefined ? null : parseExpected(await readText(flags.expect), flags.expect)
    const records = await samples(config, baseDir, flags)
    const lines = dryRun(pipeline, records, { watermarkMs: flags.watermark ?? null, batchSize: flags.batchSize ?? Number.POSITIVE_INFINITY })
    if (json) for (const line of lines) process.stdout.write(`${lineJson(line)}\n`)
    else printHuman(lines, config.pipelineId, flags.input ?? 'the source')
    if (expected === null) return 0
    const differences = compareExpected(lines, expected)
    if (differences.length === 0) {
      process.stderr.write(`${flags.expect}: as expected (${expected.length} lines)\n`)
      return 0
    }
    process.stderr.write(`${flags.expect}: ${differences.length} difference(s)\n`)
    for (const d of differences) process.stderr.write(`  ${d}\n`)
    return 1
  } catch (err) {
    return reportError(toSluiceError(err), json)
  }
}

async function samples(config: Awaited<ReturnType<typeof loadPipelineFile>>['config'], baseDir: string, flags: TestFlags): Promise<SourceRecord[]> {
  if (flags.input === undefined) return sampleSource(config, baseDir, flags.limit, process.env, AbortSignal.timeout(60_000))
  const topic = inputTopic(config, flags.input)
  return parseInput(await readText(flags.input), flags.inputFormat, { topic, withLines: sourceFor(config.extract).metadata === 'file' }, flags.input)
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (cause) {
    throw new SluiceError('CONFIG_UNREADABLE', `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause })
  }
}

function printHuman(lines: readonly DryRunLine[], pipelineId: string, from: string): void {
  const out = process.stdout
  const tally: Record<string, number> = {}
  let records = 0
  for (const l of lines) {
    if (l.outcome === 'aggregate') {
      out.write(`   aggregate row ${JSON.stringify(l.row)} from records ${l.records.join(', ')}\n`)
      continue
    }
    records++
    tally[l.outcome] = (tally[l.outcome] ?? 0) + 1
    const where = `${l.source.topic}/${l.source.partition}@${l.source.offset}${l.source.line === undefined ? '' : ` line ${l.source.line}`}`
    out.write(`#${l.record} ${where}: ${describe(l)}\n`)
  }
  const summary = Object.entries(tally).map(([k, n]) => `${n} ${noun(k, n)}`).join(', ')
  out.write(`${pipelineId}: ${records} record(s) from ${from}${summary ? `: ${summary}` : ''} (nothing written)\n`)
}

/** "1 row", "2 rows", "1 dead letter", "3 late". */
function noun(outcome: string, n: number): string {
  const word = outcome === 'dead' ? 'dead letter' : outcome
  return n !== 1 && (outcome === 'row' || outcome === 'dead' || outcome === 'delete') ? `${word}s` : word
}

function describe(l: Exclude<DryRunLine, { outcome: 'aggregate' }>): string {
  switch (l.outcome) {
    case 'row':
      return `row ${JSON.stringify(l.row)}`
    case 'dead':
      return `dead letter ${l.code}: ${l.reason} -> ${l.to}${l.failFast ? ' (failFast: a run would stop here)' : ''}`
    case 'late':
      return `late ${l.reason} -> ${l.to}`
    case 'filtered':
      return 'filtered by a step'
    case 'delete':
      return `delete ${JSON.stringify(l.key)}${l.void ? ' (void: a later record of the batch has the same key)' : ''}`
    case 'skipped':
      return `skipped: ${l.reason}`
    case 'aggregated':
      return `aggregated into ${JSON.stringify(l.group)}`
  }
}
