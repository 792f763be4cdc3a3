/** The PostgreSQL sink (server or embedded PGlite): definition for the registry plus tracker operations. */
import type { ComponentContext, SinkDefinition } from '../../../api/component.ts'
import type { PostgresLoadConfig } from './config.ts'
import { PostgresSink, type PostgresSinkOptions } from './sink.ts'

export { PostgresSink, type PostgresSinkOptions } from './sink.ts'
export { BatchTracker, type TrackerStatus } from './tracker.ts'
export { ensureTable, createTableSql, type LoadSchema, type TableInfo } from './columns.ts'
export { embeddedDataDir, type CredentialResolver } from './connection.ts'
export { classifyError } from './classify-error.ts'
export { type PgDriver, type PgSession } from './driver.ts'
export { readOnlyQuery, rowObjects, queryFailure, type ArrayResult } from './read-only.ts'
export { pipelineSchema, configuredSchema } from './schema.ts'
export { connect } from './connection.ts'
export type { PostgresLoadConfig } from './config.ts'

/** Creates a PostgreSQL sink; `options` carries the credential resolver and the parsed load schema. */
export function createPostgresSink(config: PostgresLoadConfig, ctx: ComponentContext, options?: PostgresSinkOptions): PostgresSink {
  return new PostgresSink(config, ctx, options)
}

export const postgresSink: SinkDefinition<PostgresLoadConfig> & {
  create(config: PostgresLoadConfig, ctx: ComponentContext, options?: PostgresSinkOptions): PostgresSink
} = {
  type: 'postgresql',
  summary: 'PostgreSQL (or embedded PGlite): COPY-based append/overwrite/upsert, exactly once with batch_tracker',
  create: createPostgresSink,
}
