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
import type { BatchMark } from '../../../api/store.ts'
import type { DeadLetter, RejectedRow, TableBatch } from '../../../api/writer.ts'
import { type CommitResult, commitBatch } from '../../../engine/commit.ts'
import type { SideOutput } from '../../../reliability/dlq.ts'
import type { ComponentContext as Ctx } from '../../../api/component.ts'
import { type PgBatchTx, type PostgresParts, type PostgresSinkOptions, createPostgresSink, postgresSink } from './index.ts'
import { DeadLetterTables } from '../../../reliability/dlq.ts'
import type { StoreFixture, StoredLetter } from '../../../../test/conformance/sink-suite.ts'
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
    autoEvolve: false,
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
): TestBatch {
  const from = options.start === undefined ? (batchId - 1) * 1000 : options.start
  const start: Position = from === null || from === 0 ? {} : { 't/0': String(from) }
  const end: Position = { 't/0': String((from ?? 0) + 1000) }
  return {
    pipelineId: options.pipelineId ?? 'test-pipeline',
    batchId,
    exactlyOnce: options.exactlyOnce ?? true,
    rows: values.map((v, i) => row(v, (from ?? 0) + i)),
    recordCount: values.length,
    start,
    end,
    nextWatermarkMs: options.watermark ?? null,
    checkpointLocation: '/tmp/checkpoint',
    sideOutputs: options.sideOutputs ?? [],
    ...(options.deletes === undefined ? {} : { deletes: options.deletes }),
  }
}

/** A batch as these tests write it: the store's mark, the table's rows, side outputs of its own. */
export interface TestBatch extends BatchMark, TableBatch {
  readonly sideOutputs: readonly SideOutput[]
}

/** Turns rows the database refused into side outputs (a test's DLQ table). */
export type RejectHandler = (rejected: readonly RejectedRow[]) => readonly SideOutput[]

/**
 * The PostgreSQL store and table writer of a load config, driven the way the engine drives them:
 * `write` goes through engine/commit.ts (store transaction, table writer, dead-letter writer), so
 * these tests exercise the production commit path. The batch's side outputs and the reject
 * handler's tables are written by the family's dead-letter writer inside the same transaction.
 */
export class TestSink {
  readonly parts: PostgresParts
  readonly config: PostgresLoadConfig
  #rejected: readonly SideOutput[] = []
  #own: readonly SideOutput[] = []
  readonly #letters

  constructor(config: PostgresLoadConfig, ctx: Ctx, options?: PostgresSinkOptions) {
    this.config = config
    this.parts = createPostgresSink(config, ctx, options)
    // The shaper hands over what the test prepared for the batch being committed.
    this.#letters = postgresSink.deadLetters({ sideOutputs: () => [...this.#own, ...this.#rejected] }, config)
  }

  get store() {
    return this.parts.store
  }

  get tracker() {
    return this.parts.store.tracker
  }

  async open(signal: AbortSignal): Promise<void> {
    await this.parts.store.open(signal)
    await this.parts.table.open(signal)
  }

  async write(b: TestBatch, onReject?: RejectHandler): Promise<CommitResult> {
    this.#own = b.sideOutputs
    this.#rejected = []
    const onRejected =
      onReject === undefined
        ? undefined
        : (rejected: readonly RejectedRow[]): DeadLetter[] => {
            this.#rejected = onReject(rejected)
            return rejected.map((r) => ({ record: r.row.source, code: r.error.code, reason: r.error.message }))
          }
    const table: TableBatch = { rows: b.rows, ...(b.deletes === undefined ? {} : { deletes: b.deletes }), ...(b.deleteTopics === undefined ? {} : { deleteTopics: b.deleteTopics }), ...(b.merge === undefined ? {} : { merge: b.merge }) }
    // The engine hands the dead-letter writer only batches with dead letters or late records; the
    // test's own side outputs ride on one placeholder letter, which the shaper above ignores.
    const placeholder: DeadLetter[] = b.sideOutputs.length > 0 ? [{ record: b.rows[0]?.source ?? row({}).source, code: 'INTERNAL', reason: 'carries the test batch side outputs' }] : []
    return commitBatch({ store: this.parts.store, table: this.parts.table, deadLetters: this.#letters }, { mark: b, table, dead: placeholder, late: [], ...(onRejected ? { onRejected } : {}) })
  }

  committedState(pipelineId: string) {
    return this.parts.store.committedState(pipelineId)
  }

  cleanup(pipelineId: string | undefined, retentionDays: number): Promise<number> {
    return this.parts.store.cleanup(pipelineId, retentionDays)
  }

  readStatus(pipelineId: string) {
    return this.parts.store.readStatus(pipelineId)
  }

  readOnlyQuery(sql: string) {
    return this.parts.store.readOnlyQuery(sql)
  }

  ping(signal: AbortSignal): Promise<void> {
    return this.parts.store.ping(signal)
  }

  targetColumns() {
    return this.parts.table.targetColumns()
  }

  close(): Promise<void> {
    return this.parts.store.close()
  }
}

/** The conformance suite's fixture over a PostgreSQL store of `config`; `query` reads the same database. */
export function postgresStoreFixture(config: PostgresLoadConfig, query: (sql: string) => Promise<RowValues[]>, teardown: () => Promise<void>): StoreFixture<PgBatchTx> {
  const parts = createPostgresSink(config, testContext())
  const shaper = new DeadLetterTables({ pipelineId: 'conformance', dlq: { kind: 'table', table: 'events_dlq' }, late: { kind: 'table', table: 'events_late' } })
  const letters = async (kind: 'dlq' | 'late'): Promise<StoredLetter[]> => {
    const present = await query(`SELECT to_regclass('events_${kind}') IS NOT NULL AS present`)
    if (present[0]?.present !== true) return []
    const rows = await query(`SELECT "sluice.source.offset"::text AS offset, "sluice.error.code" AS code FROM events_${kind} ORDER BY "sluice.source.offset"`)
    return rows.map((r) => ({ kind, offset: String(r.offset), code: String(r.code) }))
  }
  return {
    parts: { ...parts, deadLetters: postgresSink.deadLetters(shaper, config) },
    async rows() {
      const rows = await query('SELECT id::int AS id, name, amount::float8 AS amount FROM events ORDER BY id')
      return rows.map((r) => ({ id: Number(r.id), name: (r.name as string | null) ?? null, amount: r.amount === null ? null : Number(r.amount) }))
    },
    letters: async () => [...(await letters('dlq')), ...(await letters('late'))],
    refused: (id) => ({ id, name: null, amount: 1 }),
    teardown,
  }
}

/** The conformance suite's `events` table. */
export const EVENTS_DDL = 'CREATE TABLE events (id bigint primary key, name varchar(20) not null, amount numeric(12,2), ts timestamptz, payload jsonb)'
