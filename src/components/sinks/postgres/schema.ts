/**
 * The one answer to "in which schema are the pipeline's tables": the sink (`run`), `status`,
 * `cleanup` and `sql` all call `pipelineSchema`, so they never look in different places. With
 * `currentSchema` it is that name, exactly (case kept; JDBC-style surrounding quotes removed);
 * without, the connection's current_schema(): the first existing schema of its search_path
 * (a role's or database's `search_path = etl, public` gives etl), else public.
 */
import type { PostgresLoadConfig } from './config.ts'
import type { PgDriver } from './driver.ts'
import { sqlText } from './sql/sql-files.ts'

/** The schema a `currentSchema` value names: taken verbatim, or the inside of `"..."` (`""` is one quote). */
export function configuredSchema(value: string): string {
  const v = value.trim()
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replaceAll('""', '"')
  return v
}

/** The schema of the pipeline's tracker and unqualified table, for every command alike. */
export async function pipelineSchema(config: PostgresLoadConfig, driver: PgDriver): Promise<string> {
  const configured = config.connectionParams.currentSchema
  if (configured !== undefined) return configuredSchema(configured)
  const r = await driver.query<{ schema: string | null }>(sqlText('current-schema'))
  return r.rows[0]?.schema ?? 'public'
}
