/**
 * The schema files a pipeline names: `extract.schemaName` (a JSON Schema each record must satisfy)
 * and `load.schemaName` (the table's columns and key), read from `schemaDir` (default `./schemas`
 * beside the pipeline file). `run` and `validate` read them through the same function, so validate
 * refuses a missing or malformed schema file exactly as a run would.
 */
import { join, resolve } from 'node:path'
import { isTableTemplate, type LoadSchema } from '../components/sinks/postgres/index.ts'
import { configInvalid, type ConfigIssue, type PipelineConfig } from '../config/index.ts'
import { type AggregateSpec, aggregateColumnTypes, aggregateKey } from '../engine/aggregate.ts'
import { compileRecordSchema, readSchemaFile, type RecordValidator } from '../engine/record-schema.ts'
import { SluiceError, toSluiceError } from '../errors.ts'
import { splitSteps } from '../components/transforms/index.ts'

/** The parsed schemas of a pipeline. */
export interface PipelineSchemas {
  readonly validator: RecordValidator | null
  /** The load schema, completed with the aggregate step's columns when there is one. */
  readonly loadSchema: LoadSchema | null
}

/** The folder of the schemas named by schemaName: schemaDir, default `./schemas` beside the pipeline file. */
export function schemaDirOf(config: PipelineConfig, baseDir: string): string {
  return config.schemaDir ? resolve(baseDir, config.schemaDir) : join(baseDir, 'schemas')
}

/**
 * Reads, parses and checks the pipeline's schema files. Throws CONFIG_INVALID listing every bad
 * one as an issue at `extract.schemaName` / `load.schemaName`.
 */
export async function pipelineSchemas(config: PipelineConfig, baseDir: string): Promise<PipelineSchemas> {
  const schemaDir = schemaDirOf(config, baseDir)
  const issues: ConfigIssue[] = []
  const attempt = async <T>(path: string, name: string, read: () => Promise<T>): Promise<T | null> => {
    try {
      return await read()
    } catch (err) {
      issues.push({ path, value: name, message: toSluiceError(err, 'CONFIG_INVALID').message })
      return null
    }
  }
  const extractName = config.extract.schemaName
  const validator = extractName ? await attempt('extract.schemaName', extractName, async () => compileRecordSchema(await readSchemaFile(schemaDir, extractName), extractName)) : null
  const loadName = config.load.schemaName
  const { aggregate } = splitSteps(config.transform)
  const loadSchema = loadName
    ? await attempt('load.schemaName', loadName, async () => {
        const parsed = parseLoadSchema(await readSchemaFile(schemaDir, loadName), loadName)
        return aggregate ? withAggregateColumns(parsed, aggregate, loadName, aggregateStateMode(config) !== 'merge') : parsed
      })
    : null
  const load = config.load
  if (loadSchema !== null && isTableTemplate(load.table) && load.writeMode === 'upsert' && load.upsertKeys === undefined && (loadSchema.primaryKey ?? []).length === 0) {
    // Each routed table's own key is not read (the tables are not known at start): the key must be named.
    issues.push({ path: 'load.upsertKeys', value: undefined, message: `required with the {topic} template ${JSON.stringify(load.table)} in load.table: the load schema "${loadName}" has no primaryKey` })
  }
  if (issues.length > 0) throw configInvalid(issues)
  return { validator, loadSchema }
}

/** True when the pipeline's aggregate step runs in append mode (Spark's: each window written once, when closed). */
export function appendsWindows(config: PipelineConfig): boolean {
  return config.streamingConfigJson?.outputMode === 'append' && config.transform.some((s) => s.type === 'aggregate')
}

/**
 * How the aggregate step keeps its windows: `merge` in the target table (update, complete with
 * fixed windows), or in the window state table, writing final rows (`append`) or replacing session
 * rows (`complete` with sessions). Null without an aggregate step.
 */
export function aggregateStateMode(config: PipelineConfig): 'merge' | 'append' | 'complete' | null {
  const step = config.transform.find((s) => s.type === 'aggregate')
  if (step === undefined) return null
  if (appendsWindows(config)) return 'append'
  return step.type === 'aggregate' && step.session !== undefined ? 'complete' : 'merge'
}

/** Checks the shape of a load schema file: `{ "columns": { name: type }, "primaryKey": [names] }`. */
export function parseLoadSchema(raw: Readonly<Record<string, unknown>>, name: string): LoadSchema {
  const columns = raw.columns
  if (columns === null || typeof columns !== 'object' || Array.isArray(columns) || Object.values(columns).some((t) => typeof t !== 'string')) {
    throw new SluiceError('CONFIG_INVALID', `load schema "${name}": "columns" must be an object of column name -> PostgreSQL type`)
  }
  const primaryKey = raw.primaryKey ?? []
  if (!Array.isArray(primaryKey) || primaryKey.some((k) => typeof k !== 'string' || !(k in columns))) {
    throw new SluiceError('CONFIG_INVALID', `load schema "${name}": "primaryKey" must list column names of "columns"`)
  }
  return { columns: columns as Record<string, string>, primaryKey: primaryKey as string[] }
}

/**
 * The aggregate step's table, completed: the window bounds, count/sum columns and the hidden avg
 * pairs (`X__sum`, `X__count`) the load schema does not list are added with their types, and the
 * key (group columns + window_start) becomes the primary key when the schema names none, so that
 * autoCreateTable makes a table the merge can upsert into. With the windows in the state table
 * (`appends`: append mode, sessions) rows are whole results, never merged: no hidden avg pairs; the key stays the primary key, so a window written
 * twice could not go unnoticed.
 */
export function withAggregateColumns(schema: LoadSchema, step: AggregateSpec, schemaName: string, appends = false): LoadSchema {
  const columns: Record<string, string> = { ...schema.columns }
  for (const [name, type] of Object.entries(aggregateColumnTypes(step, !appends))) if (!(name in columns)) columns[name] = type
  const key = aggregateKey(step)
  const given = schema.primaryKey ?? []
  if (given.length > 0 && (given.length !== key.length || !key.every((k) => given.includes(k)))) {
    throw new SluiceError('CONFIG_INVALID', `load schema "${schemaName}": the primaryKey of an aggregate's table must be its key ${JSON.stringify(key)}, not ${JSON.stringify(given)}`)
  }
  return { columns, primaryKey: given.length > 0 ? given : key }
}

