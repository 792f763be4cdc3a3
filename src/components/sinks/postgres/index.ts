/** The PostgreSQL sink family (server or embedded PGlite): commit store, table writer, dead-letter writer. */
import type { ComponentContext, SinkDefinition } from '../../../api/component.ts'
import type { ValueEnvelope } from '../../../api/source.ts'
import type { LoadSchema } from './columns.ts'
import type { PostgresLoadConfig } from './config.ts'
import type { CredentialResolver } from './connection.ts'
import { type DeadLetterShaper, PostgresDeadLetters } from './dead-letters.ts'
import { PostgresStore } from './store.ts'
import { PostgresTableWriter, chunkLimits } from './table-writer.ts'
import { RoutedTableWriter } from './routed-writer.ts'
import { isTableTemplate } from './table-template.ts'
import { PostgresKeyedState } from './keyed-state.ts'
import { PostgresWindowState } from './window-state.ts'

export { PostgresStore, type PgBatchTx } from './store.ts'
export { PostgresTableWriter } from './table-writer.ts'
export { RoutedTableWriter } from './routed-writer.ts'
export { isTableTemplate, parseTableTemplate, routedTable, templateBaseTable, topicPart, topicRouting, TOPIC_PLACEHOLDER } from './table-template.ts'
export { PostgresKeyedState } from './keyed-state.ts'
export { PostgresWindowState } from './window-state.ts'
export { PostgresDeadLetters, type DeadLetterShaper } from './dead-letters.ts'
export { BatchTracker, type TrackerStatus } from './tracker.ts'
export { ensureTable, createTableSql, type LoadSchema, type TableInfo } from './columns.ts'
export { embeddedDataDir, type CredentialResolver } from './connection.ts'
export { classifyError } from './classify-error.ts'
export { type PgDriver, type PgSession } from './driver.ts'
export { readOnlyQuery, rowObjects, queryFailure, type ArrayResult } from './read-only.ts'
export { pipelineSchema, configuredSchema } from './schema.ts'
export { connect } from './connection.ts'
export { resetPositions, partitionMoves, type ResetRequest, type ResetOutcome, type PartitionMove } from './position-reset.ts'
export { embeddedInUse } from './embedded-lock.ts'
export { RUN_LOCK_APPLICATION } from './run-lock.ts'
export type { PostgresLoadConfig } from './config.ts'

/** Extra inputs the runtime passes when it creates the sink. */
export interface PostgresSinkOptions {
  /** Resolves `credentialId` (environment or credentials file). */
  readonly resolveCredential?: CredentialResolver
  /** The parsed load schema named by `schemaName`, when there is one. */
  readonly loadSchema?: LoadSchema
  /** The envelope of the source's values (extract.envelope): where autoEvolve finds a Connect schema. */
  readonly envelope?: ValueEnvelope
}

/** The store, the table writer and the keyed state of one pipeline; they share the store's connection. */
export interface PostgresParts {
  readonly store: PostgresStore
  /** One table, or one per topic with a `{topic}` template in load.table. */
  readonly table: PgTableWriter
  readonly state: PostgresKeyedState
  readonly windows: PostgresWindowState
}

/** The table writer of a PostgreSQL load: one table, or routed by topic. */
export type PgTableWriter = PostgresTableWriter | RoutedTableWriter

/** Creates a pipeline's PostgreSQL store and table writer. */
export function createPostgresSink(config: PostgresLoadConfig, ctx: ComponentContext, options: PostgresSinkOptions = {}): PostgresParts {
  const store = new PostgresStore(config, ctx, options.resolveCredential)
  const table = isTableTemplate(config.table) ? new RoutedTableWriter(config, store, ctx, options.loadSchema, options.envelope) : new PostgresTableWriter(config, store, ctx, options.loadSchema, options.envelope)
  return { store, table, state: new PostgresKeyedState(), windows: new PostgresWindowState() }
}

export const postgresSink: SinkDefinition<PostgresLoadConfig, PostgresParts> & {
  create(config: PostgresLoadConfig, ctx: ComponentContext, options?: PostgresSinkOptions): PostgresParts
  /** The writer of dead letters and late records into tables of the store's database (the DLQ, the outbox). */
  deadLetters(shaper: DeadLetterShaper, config: PostgresLoadConfig): PostgresDeadLetters
} = {
  type: 'postgresql',
  summary: 'PostgreSQL (or embedded PGlite): COPY-based append/overwrite/upsert, exactly once with batch_tracker',
  create: createPostgresSink,
  deadLetters: (shaper, config) => new PostgresDeadLetters(shaper, chunkLimits(config)),
}
