/**
 * Extract schemas (`extract.schemaName`): a JSON Schema (draft 2020-12) every decoded record must
 * satisfy, read from `<schemaDir>/<schemaName>.json`. Types are coerced where the schema says so:
 * numeric strings become numbers ("coerceTypes"), and properties declared `"format": "date-time"`
 * accept ISO strings or epoch seconds/milliseconds (normalised to ISO). A violation is a bad record
 * (RECORD_SCHEMA) with the first failing path in its reason.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { RowValues } from '../api/record.ts'
import { SluiceError } from '../errors.ts'
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
    if (validate(values)) return null
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
