/**
 * TLS to a PostgreSQL server with libpq's `sslmode` meanings, which node-postgres does not have on its
 * own (it has no prefer/allow fallback, and `sslmode` in a URL overrides everything else):
 *
 *   disable      plain TCP only
 *   allow        plain first; TLS (unverified) when the server refuses the plain connection (pg_hba)
 *   prefer       TLS (unverified) first; plain when the server has no TLS (the default, as in libpq)
 *   require      TLS, no verification; with sslrootcert the chain is verified (as libpq: like verify-ca)
 *   verify-ca    TLS, the chain must lead to sslrootcert (or the system's CAs); any host name
 *   verify-full  verify-ca, and the certificate must name the host connected to
 *
 * `sslrootcert`, `sslcert`, `sslkey` are PEM files (relative paths from the pipeline file's folder);
 * `sslrootcert=system` means the system's trusted CAs. Settings come from connectionParams, then
 * the URL's query, then libpq's PGSSLMODE / PGSSLROOTCERT / PGSSLCERT / PGSSLKEY.
 */
import { readFileSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls'
import { SluiceError } from '../../../errors.ts'
import { isNoTlsServer, sqlState } from './classify-error.ts'
import type { PostgresConnectionParams } from '../../../config/types.ts'

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const
export type SslMode = (typeof SSL_MODES)[number]

/** The TLS settings of a connection, after merging their sources. */
export interface SslSettings {
  readonly mode: SslMode
  readonly rootcert?: string
  readonly cert?: string
  readonly key?: string
}

/** URL query parameters that are TLS settings (taken out of the URL before pg sees it). */
const URL_SSL_KEYS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat'] as const

function isSslMode(v: string): v is SslMode {
  return (SSL_MODES as readonly string[]).includes(v)
}

/** The sslmode a URL names (lower-cased), or undefined; for validation. */
export function urlSslMode(url: string): string | undefined {
  try {
    return new URL(url).searchParams.get('sslmode')?.trim().toLowerCase() || undefined
  } catch {
    return undefined
  }
}

/**
 * Merges the TLS settings (connectionParams over URL over environment) and returns the URL without
 * them, so that pg's own URL parsing cannot override the decision made here.
 */
export function sslSettings(
  params: PostgresConnectionParams,
  env: Readonly<Record<string, string | undefined>>,
): { settings: SslSettings; url: string | undefined } {
  let url = params.url
  const fromUrl: Record<string, string> = {}
  if (url !== undefined) {
    const u = new URL(url)
    for (const k of URL_SSL_KEYS) {
      const v = u.searchParams.get(k)
      if (v === null) continue
      fromUrl[k] = v
      u.searchParams.delete(k)
    }
    if (Object.keys(fromUrl).length > 0) url = u.toString()
  }
  const raw = (params.sslmode ?? fromUrl.sslmode ?? env.PGSSLMODE ?? 'prefer').trim().toLowerCase()
  if (!isSslMode(raw)) {
    throw new SluiceError('CONFIG_INVALID', `load.connectionParams: sslmode ${JSON.stringify(raw)} is not one of ${SSL_MODES.join(', ')}`)
  }
  const pick = (own: string | undefined, key: 'sslrootcert' | 'sslcert' | 'sslkey', envKey: string): string | undefined => {
    const v = own ?? fromUrl[key] ?? env[envKey]
    return v === undefined || v.trim() === '' ? undefined : v.trim()
  }
  const rootcert = pick(params.sslrootcert, 'sslrootcert', 'PGSSLROOTCERT')
  const cert = pick(params.sslcert, 'sslcert', 'PGSSLCERT')
  const key = pick(params.sslkey, 'sslkey', 'PGSSLKEY')
  if ((cert === undefined) !== (key === undefined)) {
    throw new SluiceError('CONFIG_INVALID', `load.connectionParams: sslcert and sslkey go together (${cert === undefined ? 'sslkey' : 'sslcert'} is given alone)`)
  }
  return {
    settings: { mode: raw, ...(rootcert === undefined ? {} : { rootcert }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) },
    url,
  }
}

function readPem(file: string, what: string, baseDir: string): Buffer {
  const path = isAbsolute(file) ? file : resolve(baseDir, file)
  try {
    return readFileSync(path)
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err)
    throw new SluiceError('CONFIG_INVALID', `load.connectionParams.${what}: cannot read ${path} (${reason})`)
  }
}

/**
 * libpq's rule for the client key: owner-only (0600 or less), or 0640 or less when root owns it
 * (a key shared through a group). A key others can read is refused, not used.
 */
function checkKeyMode(file: string, baseDir: string): void {
  const path = isAbsolute(file) ? file : resolve(baseDir, file)
  let st: { mode: number; uid: number }
  try {
    st = statSync(path)
  } catch {
    return // readPem reports the missing file
  }
  const loose = st.uid === 0 ? (st.mode & 0o037) !== 0 : (st.mode & 0o077) !== 0
  if (loose) {
    throw new SluiceError(
      'CONFIG_INVALID',
      `load.connectionParams.sslkey: ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); make it owner-only: chmod 600 ${path}`,
    )
  }
}

/** How to connect: the TLS options of each attempt in order (false = plain TCP) and when to try the next. */
export interface ConnectPlan {
  readonly mode: SslMode
  readonly attempts: readonly (false | ConnectionOptions)[]
  /** True when the failure of an attempt means: try the next one (libpq's allow/prefer fallback). */
  fallBack(err: unknown): boolean
}

/** Builds the attempts for `settings`; `host` is the server name a verify-full certificate must carry. */
export function connectPlan(settings: SslSettings, host: string, baseDir: string): ConnectPlan {
  const { mode } = settings
  const tls: ConnectionOptions = {}
  const system = settings.rootcert?.toLowerCase() === 'system'
  if (settings.rootcert !== undefined && !system) tls.ca = readPem(settings.rootcert, 'sslrootcert', baseDir)
  if (settings.cert !== undefined && settings.key !== undefined) {
    tls.cert = readPem(settings.cert, 'sslcert', baseDir)
    checkKeyMode(settings.key, baseDir)
    tls.key = readPem(settings.key, 'sslkey', baseDir)
  }
  // libpq verifies the chain whenever it has a root certificate, and always in the verify modes.
  const verifyChain = mode === 'verify-ca' || mode === 'verify-full' || settings.rootcert !== undefined
  tls.rejectUnauthorized = verifyChain
  tls.checkServerIdentity =
    mode === 'verify-full'
      ? (_servername: string, cert: PeerCertificate) => checkServerIdentity(host, cert)
      : () => undefined
  switch (mode) {
    case 'disable':
      return { mode, attempts: [false], fallBack: () => false }
    case 'allow':
      // The plain attempt is refused by pg_hba (hostssl only): SQLSTATE 28000, "no encryption".
      return { mode, attempts: [false, tls], fallBack: (err) => sqlState(err) === '28000' }
    case 'prefer':
      return { mode, attempts: [tls, false], fallBack: isNoTlsServer }
    default:
      return { mode, attempts: [tls], fallBack: () => false }
  }
}
