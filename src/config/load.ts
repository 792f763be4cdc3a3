/** Reading a pipeline file: JSON, `${VAR}` interpolation from the environment, validation. */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { kafkaConnectionIssues } from '../components/kafka/check.ts'
import { SluiceError } from '../errors.ts'
import type { Env } from './interpolate.ts'
import { configInvalid, parsePipeline } from './parse.ts'
import type { PipelineConfig } from './types.ts'

export interface LoadOptions {
  /** Variables for `${VAR}` interpolation (default process.env). */
  env?: Env
}

export interface LoadedPipeline {
  config: PipelineConfig
  /** Folder of the file: relative paths in the config resolve against it. */
  baseDir: string
  /** Absolute path of the file. */
  file: string
}

/** Reads and validates a pipeline file; throws CONFIG_UNREADABLE or CONFIG_INVALID (details.issues). */
export async function loadPipelineFile(path: string, options: LoadOptions = {}): Promise<LoadedPipeline> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new SluiceError('CONFIG_UNREADABLE', `cannot read pipeline file ${file}${code ? ` (${code})` : ''}`, { cause: err, details: { file } })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    // V8's message may quote the offending text, which can be a secret: report the position only.
    const where = jsonErrorPosition(err, text)
    throw new SluiceError('CONFIG_UNREADABLE', `pipeline file ${file} is not valid JSON${where}`, { details: { file } })
  }
  const r = parsePipeline(json, { env: options.env ?? process.env })
  if (!r.ok) throw configInvalid(r.issues, file)
  // Certificate files and SASL logins: what the schema cannot see, checked as run would.
  const kafkaIssues = kafkaConnectionIssues(r.config, dirname(file))
  if (kafkaIssues.length > 0) throw configInvalid(kafkaIssues, file)
  return { config: r.config, baseDir: dirname(file), file }
}

/** " at line L column C" for a JSON.parse error, or "" when V8 gave no position. */
function jsonErrorPosition(err: unknown, text: string): string {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '')
  if (m?.[1] === undefined) return /end of JSON input/.test(err instanceof Error ? err.message : '') ? ' (unexpected end of input)' : ''
  const before = text.slice(0, Number(m[1]))
  const line = before.split('\n').length
  const column = before.length - before.lastIndexOf('\n')
  return ` at line ${line} column ${column}`
}
