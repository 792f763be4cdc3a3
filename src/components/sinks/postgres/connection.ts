/**
 * Turns the load's connection settings into a driver: `pglite://<folder>` or `embedded: true` opens
 * embedded PGlite, anything else a pg pool (url, or host/port/database/user/password). The password
 * may come from `credentialId` through a resolver the caller passes in. Secrets collected here are
 * handed to error redaction and never logged.
 */
import { isAbsolute, resolve } from 'node:path'
import type pg from 'pg'
import type { ComponentContext } from '../../../api/component.ts'
import { SluiceError } from '../../../errors.ts'
import { createPgDriver } from './driver-pg.ts'
import type { PgDriver } from './driver.ts'
import type { PostgresConnectionParams, PostgresLoadConfig } from './config.ts'
import { connectPlan, sslSettings } from './tls.ts'

/** Looks up a credential by id (environment, credentials file); supplied by the engine. */
export type CredentialResolver = (id: string) => Promise<{ user?: string; password?: string }>

/** A driver plus the strings that must never appear in a message. */
export interface Connection {
  readonly driver: PgDriver
  readonly secrets: readonly string[]
  /** Where the database is, without credentials, for logs and `status`. */
  readonly display: string
}

/** The folder an embedded database uses, or null when the load names a server. */
export function embeddedDataDir(config: PostgresLoadConfig, baseDir: string): string | null {
  const url = config.connectionParams.url
  if (url !== undefined && url.startsWith('pglite://')) {
    const folder = url.slice('pglite://'.length)
    if (folder === '' || folder === 'memory') return ':memory:'
    return isAbsolute(folder) ? folder : resolve(baseDir, folder)
  }
  if (config.embedded) return resolve(baseDir, '.sluice', 'pgdata')
  return null
}

/** The host a verify-full certificate must name: the one pg connects to. */
function serverHost(p: PostgresConnectionParams, url: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (p.host !== undefined) return p.host
  if (url !== undefined) {
    const h = new URL(url).hostname
    if (h !== '') return h.replace(/^\[(.*)\]$/, '$1')
  }
  return env.PGHOST ?? 'localhost'
}

/** Strips the password from a postgres:// URL (for display). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://(unparsable url)'
  }
}

/** Opens the driver the load config names. */
export async function connect(
  config: PostgresLoadConfig,
  ctx: ComponentContext,
  resolveCredential?: CredentialResolver,
): Promise<Connection> {
  const dataDir = embeddedDataDir(config, ctx.baseDir)
  if (dataDir !== null) {
    const memory = dataDir === ':memory:'
    // Loaded only for an embedded database: a pipeline on a server never pays PGlite's start-up.
    const { createPgliteDriver } = await import('./driver-pglite.ts')
    return { driver: createPgliteDriver(memory ? undefined : dataDir), secrets: [], display: `pglite://${memory ? 'memory' : dataDir}` }
  }
  const p = config.connectionParams
  let user = p.user
  let password = p.password
  if (config.credentialId !== undefined) {
    if (resolveCredential === undefined) {
      throw new SluiceError('CREDENTIAL_MISSING', `credentialId ${config.credentialId} given but no credential resolver is configured`)
    }
    const cred = await resolveCredential(config.credentialId)
    user = cred.user ?? user
    password = cred.password ?? password
  }
  const secrets: string[] = []
  if (password !== undefined) secrets.push(password)
  const options: pg.PoolConfig = { max: p.poolSize ?? 4 }
  const env = ctx.env
  // TLS is decided here (libpq's sslmode), so the URL reaching pg carries no ssl* parameters.
  const { settings, url } = sslSettings(p, env)
  if (url !== undefined) {
    options.connectionString = url
    secrets.push(url)
    if (p.url !== undefined) secrets.push(p.url)
    try {
      const u = new URL(url)
      if (u.password !== '') secrets.push(decodeURIComponent(u.password))
    } catch {
      // pg reports the unparsable URL itself; it is redacted as a whole.
    }
  }
  if (p.host !== undefined) options.host = p.host
  if (p.port !== undefined) options.port = p.port
  if (p.database !== undefined) options.database = p.database
  if (user !== undefined) options.user = user
  if (password !== undefined) options.password = password
  const plan = connectPlan(settings, serverHost(p, url, env), ctx.baseDir)
  const display = p.url !== undefined ? safeUrl(p.url) : `postgres://${user ?? ''}@${p.host ?? 'localhost'}:${p.port ?? 5432}/${p.database ?? ''}`
  return { driver: createPgDriver(options, plan, ctx.logger), secrets, display }
}
