/** Parsing of a pipeline JSON value: every issue at once, or the normalized PipelineConfig. */
import { withoutForbiddenKeys } from './forbidden-keys.ts'
import { interpolate, type Env } from './interpolate.ts'
import { configInvalid, errorMap, toConfigIssues } from './issues.ts'
import { pipelineSchema } from './pipeline.ts'
import type { ConfigIssue, ParseResult, PipelineConfig } from './types.ts'

// Defined beside the issues so components can raise it without loading the root schema (an import cycle).
export { configInvalid }

export interface ParseOptions {
  /** When given, `${VAR}` / `${VAR:-default}` in string values are replaced first (loadPipelineFile passes process.env). */
  env?: Env
}

/** Validates a parsed JSON value; returns the config or ALL issues. Pure: interpolates only when options.env is given. */
export function parsePipeline(json: unknown, options: ParseOptions = {}): ParseResult {
  const clean = withoutForbiddenKeys(json)
  let input = clean.value
  const issues: ConfigIssue[] = [...clean.issues]
  if (options.env !== undefined) {
    const r = interpolate(input, options.env)
    input = r.value
    issues.push(...r.issues)
  }
  const r = pipelineSchema.safeParse(input, { error: errorMap, reportInput: true })
  if (r.success && issues.length === 0) return { ok: true, config: r.data }
  if (!r.success) {
    // An unset variable already explains its path; the literal ${VAR} failing validation would repeat it.
    const interpolated = new Set(issues.map((i) => i.path))
    issues.push(...toConfigIssues(r.error.issues, input).filter((i) => !interpolated.has(i.path)))
  }
  return { ok: false, issues }
}

/** Like parsePipeline, but throws SluiceError CONFIG_INVALID (details.issues) instead of returning issues. */
export function fromJson(json: unknown, options: ParseOptions = {}): PipelineConfig {
  const r = parsePipeline(json, options)
  if (!r.ok) throw configInvalid(r.issues)
  return r.config
}
