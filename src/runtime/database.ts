/** Opens a pipeline's sink database (server or embedded) for the operational commands. */
import type { Logger } from '../api/component.ts'
import { nullLogger } from '../api/component.ts'
import { BatchTracker, classifyError, connect, pipelineSchema, type PgDriver } from '../components/sinks/postgres/index.ts'
import { type PipelineConfig, resolveCredential } from '../config/index.ts'

/** A database connection with the pipeline's tracker. */
export interface PipelineDatabase {
  readonly driver: PgDriver
  readonly tracker: BatchTracker
  /** The schema of the tracker and the table: the same one `run` uses (pipelineSchema). */
  readonly schema: string
  /** Where the database is, without credentials. */
  readonly display: string
  /** Strings that must never appear in a message (for error redaction). */
  readonly secrets: readonly string[]
  close(): Promise<void>
}

/** Connects to the pipeline's load database and finds its schema as the sink does. */
export async function openDatabase(
  config: PipelineConfig,
  baseDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  logger: Logger = nullLogger,
): Promise<PipelineDatabase> {
  const ctx = { pipelineId: config.pipelineId, baseDir, logger, env }
  const conn = await connect(config.load, ctx, (id) => resolveCredential(id, env))
  let schema: string
  try {
    schema = await pipelineSchema(config.load, conn.driver)
  } catch (err) {
    await conn.driver.close().catch(() => {})
    throw classifyError(err, `opening ${conn.display}`, conn.secrets)
  }
  return {
    driver: conn.driver,
    tracker: new BatchTracker(conn.driver, schema),
    schema,
    display: conn.display,
    secrets: conn.secrets,
    close: () => conn.driver.close(),
  }
}
