/**
 * `sluice validate <pipeline.json...>`: exit 0 and a short normalized summary per valid file, exit 1
 * with every problem of every invalid file; `--json` prints one machine-readable document.
 */
import type { Command } from 'commander'
import { type ConfigIssue, type Env, type PipelineConfig, formatIssue, loadPipelineFile, redactText, toJson } from '../../config/index.ts'
import { formatDuration } from '../../config/duration.ts'
import { formatTrigger } from '../../config/trigger.ts'
import { isSluiceError, toSluiceError } from '../../errors.ts'
import { describeDestination, describeLate, pipelineRoutes } from '../../runtime/routes.ts'
import { pipelineSchemas } from '../../runtime/schemas.ts'
import { isTableTemplate, type LoadSchema } from '../../components/sinks/postgres/index.ts'
import { parseQualified } from '../../components/sinks/postgres/sql/quote.ts'
import { sourceFor } from '../../components/registry.ts'

/** The verdict on one file. */
export type ValidateResult =
  | { file: string; ok: true; summary: string[]; config: Record<string, unknown> }
  | { file: string; ok: false; issues: ConfigIssue[]; error?: { code: string; message: string } }

/** Loads and validates one file (with `${VAR}` interpolation from `env`); never throws. */
export async function validateFile(file: string, env: Env = process.env): Promise<ValidateResult> {
  try {
    const { config, baseDir } = await loadPipelineFile(file, { env })
    // The schema files a run reads are read here too: validate refuses what run refuses.
    const { loadSchema } = await pipelineSchemas(config, baseDir)
    return { file, ok: true, summary: summarize(config, { loadSchemaKey: loadSchemaKey(config, loadSchema) }).map(redactText), config: toJson(config) }
  } catch (err) {
    if (isSluiceError(err, 'CONFIG_INVALID')) {
      const issues = Array.isArray(err.details['issues']) ? (err.details['issues'] as ConfigIssue[]) : []
      return { file, ok: false, issues }
    }
    const e = toSluiceError(err, 'CONFIG_UNREADABLE')
    return { file, ok: false, issues: [], error: { code: e.code, message: e.message } }
  }
}

/** What validate can know beyond the file itself. */
export interface SummaryFacts {
  /** The primaryKey of the load schema named by load.schemaName, when it names one. */
  readonly loadSchemaKey?: readonly string[] | undefined
}

/** The load schema's primaryKey (the key an upsert without upsertKeys uses), when it names one. */
function loadSchemaKey(c: PipelineConfig, schema: LoadSchema | null): readonly string[] | undefined {
  if (c.load.writeMode !== 'upsert' || c.load.upsertKeys !== undefined) return undefined
  const key = schema?.primaryKey ?? []
  return key.length > 0 ? key : undefined
}

/** How an upsert finds its key: " on id", " on id (the load schema's primaryKey)", or looked up at start. */
function upsertKeyText(c: PipelineConfig, facts: SummaryFacts): string {
  if (c.load.writeMode !== 'upsert') return ''
  if (c.load.upsertKeys) return ` on ${c.load.upsertKeys.join(', ')}`
  if (facts.loadSchemaKey) return ` on ${facts.loadSchemaKey.join(', ')}, the load schema's primaryKey`
  return " on the table's primary key or its one unique constraint, looked up at start"
}

/**
 * The target as run writes it: a name without a schema qualified with the connection's schema, a
 * qualified one as written; a `{topic}` template shown as the template, with its rule.
 */
function targetText(c: PipelineConfig): string {
  const l = c.load
  const parsed = parseQualified(l.table)
  const qualified = 'error' in parsed || parsed.schema !== undefined ? l.table : `${l.connectionParams.currentSchema ?? 'public'}.${l.table}`
  return isTableTemplate(l.table) ? `tables ${qualified} (one per Kafka topic, {topic} the topic with characters outside [A-Za-z0-9_] as _)` : `table ${qualified}`
}

/** A few normalized lines describing a valid config (canonical spellings, secrets redacted). */
export function summarize(c: PipelineConfig, facts: SummaryFacts = {}): string[] {
  // The destinations `run` uses (runtime/routes.ts), not only what the file spells out.
  const routes = pipelineRoutes(c)
  const lines = [`pipeline ${c.pipelineId}${c.name ? ` (${c.name})` : ''}, mode ${c.mode}`]
  lines.push(`extract   ${sourceFor(c.extract).describe(c.extract)}`)
  if (c.transform.length > 0) lines.push(`transform ${c.transform.map((s) => s.type).join(' -> ')}`)
  const l = c.load
  const cp = l.connectionParams
  const where = l.embedded ? `embedded${cp.url ? ` ${cp.url}` : ''}` : cp.url ? cp.url : `${cp.host ?? ''}:${cp.port ?? 5432}/${cp.database ?? ''}`
  const keys = upsertKeyText(c, facts)
  lines.push(`load      postgresql ${targetText(c)} (${l.writeMode}${keys}) at ${where}`)
  const s = c.streamingConfigJson
  if (s) {
    lines.push(`streaming trigger ${formatTrigger(s.triggerMode)}, outputMode ${s.outputMode}, ${s.enableIdempotence ? 'exactly-once' : 'at-least-once'}, checkpoint ${s.checkpointLocation}`)
    if (s.watermark) {
      lines.push(`watermark ${s.watermark.eventTimeColumn} - ${formatDuration(s.watermark.delayThreshold)}, ${describeLate(routes)}`)
    }
  }
  const h = c.errorHandlingConfig
  const dlq = describeDestination(routes.dlq, routes.kafkaServers)
  lines.push(`errors    retry ${h.retryConfig.strategy} x${h.retryConfig.maxAttempts}, circuit breaker ${h.circuitBreakerConfig.enabled ? 'on' : 'off'}, dlq ${dlq}${h.failFast ? ', failFast' : ''}`)
  return lines
}

/** Human-readable report of the results. */
export function formatResults(results: readonly ValidateResult[]): string {
  const out: string[] = []
  for (const r of results) {
    if (r.ok) {
      out.push(`${r.file}: valid`, ...r.summary.map((line) => `  ${line}`))
    } else if (r.error) {
      out.push(`${r.file}: ${r.error.code}: ${r.error.message}`)
    } else {
      out.push(`${r.file}: invalid (${r.issues.length} problem${r.issues.length === 1 ? '' : 's'})`, ...r.issues.map((i) => `  ${formatIssue(i)}`))
    }
  }
  return `${out.join('\n')}\n`
}

/** Validates `files`; returns the exit code (0 all valid, 1 otherwise) and the text to print. */
export async function runValidate(files: readonly string[], options: { json?: boolean; env?: Env } = {}): Promise<{ exitCode: number; output: string }> {
  const results: ValidateResult[] = []
  for (const file of files) results.push(await validateFile(file, options.env))
  const ok = results.every((r) => r.ok)
  const output = options.json ? `${JSON.stringify({ ok, files: results }, null, 2)}\n` : formatResults(results)
  return { exitCode: ok ? 0 : 1, output }
}

/** Adds the `validate` command; `write` receives the output (stdout unless a test passes its own). */
export function registerValidate(program: Command, write: (text: string) => void = (t) => void process.stdout.write(t)): void {
  program
    .command('validate')
    .description('check pipeline files: exit 0 and a normalized summary when valid, 1 with every problem when not')
    .argument('<pipelines...>', 'pipeline JSON files (${VAR} and ${VAR:-default} are read from the environment)')
    .option('--json', 'print a machine-readable result')
    .action(async (files: string[], flags: { json?: boolean }) => {
      const { exitCode, output } = await runValidate(files, { json: flags.json === true })
      write(output)
      process.exitCode = exitCode
    })
}
