/** Opens a pipeline's sink database (server or embedded) for the operational commands. */
import type { Logger } from '../api/component.ts'
import { nullLogger } from '../api/component.ts'
import { BatchTracker, type PgDriver } from '../components/sinks/postgres/index.ts'
import { connect } from '../components/sinks/postgres/connection.ts'
import { type PipelineConfig, resolveCredential } from '../config/index.ts'

/** A database connection with the pipeline's tracker. */
export interface PipelineDatabase {
  readonly driver: PgDriver
  readonly tracker: BatchTracker
  readonly schema: string
  /** Where the database is, without credentials. */
  readonly display: string
  close(): Promise<void>
}

/** Connects to the pipeline's load database. */
export async function openDatabase(
  config: PipelineConfig,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  logger: Logger = nullLogger,
): Promise<PipelineDatabase> {
  const ctx = { pipelineId: config.pipelineId, baseDir, logger, env }
  const conn = await connect(config.load, ctx, (id) => resolveCredential(id, env))
  const schema = config.load.connectionParams.currentSchema ?? 'public'
  return {
    driver: conn.driver,
    tracker: new BatchTracker(conn.driver, schema),
    schema,
    display: conn.display,
    close: () => conn.driver.close(),
  }
}
