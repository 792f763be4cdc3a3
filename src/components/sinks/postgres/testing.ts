/**
 * Test helpers shared by this sink's tests and the conformance suite: batches and rows, a config for
 * the real PostgreSQL of the test environment (PG* variables, default 127.0.0.1:5432 postgres/test),
 * a fresh schema per test, and a temp folder for PGlite.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { nullLogger, type ComponentContext } from '../../../api/component.ts'
import type { Position } from '../../../api/position.ts'
import type { Row, RowValues } from '../../../api/record.ts'
import type { SideOutput, SinkBatch } from '../../../api/sink.ts'
import type { PostgresLoadConfig } from './config.ts'

/** Connection settings of the test server. */
export function pgTestParams(): { host: string; port: number; database: string; user: string; password?: string } {
  const env = process.env
  return {
    host: env.PGHOST ?? '127.0.0.1',
    port: Number(env.PGPORT ?? 5432),
    database: env.PGDATABASE ?? 'test',
    user: env.PGUSER ?? 'postgres',
    ...(env.PGPASSWORD === undefined ? {} : { password: env.PGPASSWORD }),
  }
}

/** A superuser client on the test server (for setup and assertions). */
export async function adminClient(): Promise<pg.Client> {
  const c = new pg.Client({ ...pgTestParams(), application_name: 'sluice-test-admin' })
  await c.connect()
  return c
}

/** Creates a uniquely named schema and returns its name. */
export async function freshSchema(admin: pg.Client, prefix = 't'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`
  await admin.query(`CREATE SCHEMA "${name}"`)
  return name
}

/** A load config for the test server in `schema`. */
export function pgLoadConfig(schema: string, overrides: Partial<PostgresLoadConfig> = {}): PostgresLoadConfig {
  return loadConfig({ ...pgTestParams(), currentSchema: schema }, overrides)
}

/** A load config for PGlite in `folder`. */
export function pgliteLoadConfig(folder: string, overrides: Partial<PostgresLoadConfig> = {}): PostgresLoadConfig {
  return loadConfig({ url: `pglite://${folder}` }, overrides)
}

function loadConfig(connection: PostgresLoadConfig['connectionParams'], overrides: Partial<PostgresLoadConfig>): PostgresLoadConfig {
  return {
    sinkType: 'postgresql',
    table: 'events',
    writeMode: 'append',
    autoCreateTable: true,
    deleteOnTombstone: false,
    embedded: false,
    ...overrides,
    connectionParams: { ...connection, ...overrides.connectionParams },
  }
}

/** A temp folder, removed by the returned function. */
export function tempDir(prefix = 'sluice-pg-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** A component context for tests. */
export function testContext(baseDir = process.cwd(), pipelineId = 'test-pipeline'): ComponentContext {
  return { pipelineId, baseDir, logger: nullLogger, env: {} }
}

/** A Row with a fake source record at `offset` of partition `t/0`. */
export function row(values: RowValues, offset = 0, partition = 't/0'): Row {
  return {
    values,
    source: { partition, topic: 't', partitionNumber: 0, offset: String(offset), key: null, value: Buffer.from(JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))), timestamp: 0, headers: [] },
  }
}

/**
 * A batch of `values`, exactly once by default, on partition `t/0`: batch n covers offsets
 * [(n-1)*1000, n*1000), so consecutive batches chain; offset 0 (batch 1) means "never read before".
 */
export function batch(
  batchId: number,
  values: readonly RowValues[],
  options: { start?: number | null; exactlyOnce?: boolean; pipelineId?: string; sideOutputs?: SideOutput[]; deletes?: RowValues[]; watermark?: number | null } = {},
): SinkBatch {
  const from = options.start === undefined ? (batchId - 1) * 1000 : options.start
  const start: Position = from === null || from === 0 ? {} : { 't/0': String(from) }
  const end: Position = { 't/0': String((from ?? 0) + 1000) }
  return {
    pipelineId: options.pipelineId ?? 'test-pipeline',
    batchId,
    exactlyOnce: options.exactlyOnce ?? true,
    rows: values.map((v, i) => row(v, (from ?? 0) + i)),
    start,
    end,
    nextWatermarkMs: options.watermark ?? null,
    checkpointLocation: '/tmp/checkpoint',
    sideOutputs: options.sideOutputs ?? [],
    ...(options.deletes === undefined ? {} : { deletes: options.deletes }),
  }
}
