/**
 * Extract schemas (`extract.schemaName`): a JSON Schema (draft 2020-12) every decoded record must
 * satisfy, read from `<schemaDir>/<schemaName>.json`. Types are coerced where the schema says so:
 * numeric strings become numbers ("coerceTypes"), and properties declared `"format": "date-time"`
 * accept ISO strings or epoch seconds/milliseconds (normalised to ISO). A violation is a bad record
 * (RECORD_SCHEMA) with the first failing path in its reason. ajv knows only JS numbers, so an
 * ExactNumber (a number too long for a double) is shown to it as its nearest double (type, range
 * and multipleOf checks see that double) and put back, exact, afterwards.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { RowValues } from '../api/record.ts'
import { SluiceError } from '../errors.ts'
import { type ExactNumber, isExactNumber } from './exact-number.ts'
import { parseEventTime } from './watermark.ts'

/** Validates (and coerces in place) one record; returns null when valid, else the reason. */
export type RecordValidator = (values: RowValues) => string | null

/** Reads a schema file as JSON; the error names the file. */
export async function readSchemaFile(schemaDir: string, schemaName: string): Promise<Record<string, unknown>> {
  const file = join(schemaDir, `${schemaName}.json`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new SluiceError('CONFIG_INVALID', `schema "${schemaName}" not found: expected the file ${file}`, { cause })
  }
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch (cause) {
    throw new SluiceError('CONFIG_INVALID', `schema file ${file} is not valid JSON`, { cause })
  }
}

/** Compiles an extract JSON Schema into a coercing validator. */
export function compileRecordSchema(schema: Record<string, unknown>, name: string): RecordValidator {
  const ajv = new Ajv2020({ coerceTypes: true, allErrors: false, strict: false, useDefaults: true })
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)))
  let validate
  try {
    validate = ajv.compile(schema)
  } catch (cause) {
    throw new SluiceError('CONFIG_INVALID', `schema "${name}" is not a valid JSON Schema: ${(cause as Error).message}`, { cause })
  }
  const timeFields = dateTimeProperties(schema)
  return (values) => {
    for (const field of timeFields) {
      const v = values[field]
      if (v === undefined || v === null) continue
      const ms = parseEventTime(v)
      if (ms !== null) values[field] = new Date(ms).toISOString()
    }
    const swapped = swapExactNumbers(values)
    const valid = validate(values)
    if (swapped !== null) restoreExactNumbers(swapped)
    if (valid) return null
    const first = validate.errors?.[0]
    if (!first) return 'schema violation'
    const path = first.instancePath === '' ? '(record)' : first.instancePath.slice(1).replaceAll('/', '.')
    return `${path} ${first.message ?? 'is invalid'}${first.params && 'allowedValues' in first.params ? `: ${JSON.stringify(first.params.allowedValues)}` : ''}`
  }
}

function dateTimeProperties(schema: Record<string, unknown>): string[] {
  const props = schema.properties
  if (props === null || typeof props !== 'object') return []
  return Object.entries(props as Record<string, unknown>)
    .filter(([, s]) => s !== null && typeof s === 'object' && (s as Record<string, unknown>).format === 'date-time')
    .map(([k]) => k)
}

/** Where an ExactNumber was, what ajv was shown in its place, and the number itself. */
interface Swap {
  readonly container: Record<string, unknown> | unknown[]
  readonly key: string | number
  readonly shown: number
  readonly exact: ExactNumber
}

/** Replaces every ExactNumber in `value` by its nearest double; null when there was none. */
function swapExactNumbers(value: unknown, out: Swap[] | null = null): Swap[] | null {
  if (typeof value !== 'object' || value === null) return out
  const container = value as Record<string | number, unknown>
  const visit = (key: string | number): void => {
    const v = container[key]
    if (typeof v !== 'object' || v === null) return
    if (isExactNumber(v)) {
      const shown = Number(v.rawJSON)
      ;(out ??= []).push({ container: container as Swap['container'], key, shown, exact: v })
      container[key] = shown
    } else {
      out = swapExactNumbers(v, out)
    }
  }
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) visit(i)
  else for (const key in container) visit(key)
  return out
}

/**
 * Puts the ExactNumbers back. A value ajv coerced to a string (`"type": "string"`) becomes the
 * number's exact text; one it left alone becomes the ExactNumber again.
 */
function restoreExactNumbers(swaps: readonly Swap[]): void {
  for (const { container, key, shown, exact } of swaps) {
    const c = container as Record<string | number, unknown>
    const now = c[key]
    if (now === shown || (Number.isNaN(shown) && Number.isNaN(now))) c[key] = exact
    else if (typeof now === 'string' && now === String(shown)) c[key] = exact.rawJSON
  }
}
