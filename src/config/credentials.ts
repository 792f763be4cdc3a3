/**
 * Resolution of a `credentialId` (extract and load) to secret fields such as user and password.
 * Looked up first in the environment variable SLUICE_CREDENTIAL_<ID> (ID upper-cased, every
 * non-alphanumeric character replaced by _), holding either a plain password or a JSON object;
 * then in the credentials file (SLUICE_CREDENTIALS_FILE, default ~/.config/sluice/credentials.json),
 * a JSON object of id -> object, which must not be readable by group or others.
 */
import { readFile, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { SluiceError } from '../errors.ts'
import type { Env } from './interpolate.ts'

export type Credential = { user?: string; password?: string; [k: string]: string | undefined }

/** Name of the environment variable holding credential `id`. */
export function credentialEnvName(id: string): string {
  return `SLUICE_CREDENTIAL_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`
}

/** Path of the credentials file for `env`. */
export function credentialsFilePath(env: Env): string {
  return env['SLUICE_CREDENTIALS_FILE'] ?? join(env['HOME'] ?? homedir(), '.config', 'sluice', 'credentials.json')
}

function toCredential(value: unknown, source: string): Credential {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SluiceError('CREDENTIAL_MISSING', `credential in ${source} must be a JSON object of strings`)
  }
  const out: Credential = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v)
    else throw new SluiceError('CREDENTIAL_MISSING', `credential in ${source}: field "${k}" must be a string`)
  }
  return out
}

/** Resolves credential `credentialId` from the environment or the credentials file (never logs values). */
export async function resolveCredential(credentialId: string, env: Env): Promise<Credential> {
  const envName = credentialEnvName(credentialId)
  const raw = env[envName]
  if (raw !== undefined) {
    const trimmed = raw.trim()
    if (trimmed.startsWith('{')) {
      let parsed: unknown
      try {
        parsed = JSON.parse(trimmed)
      } catch {
        throw new SluiceError('CREDENTIAL_MISSING', `${envName} starts with "{" but is not valid JSON`)
      }
      return toCredential(parsed, envName)
    }
    return { password: raw }
  }
  const file = credentialsFilePath(env)
  let info
  try {
    info = await stat(file)
  } catch {
    throw new SluiceError('CREDENTIAL_MISSING', `credential "${credentialId}" not found: set ${envName} or add it to ${file}`, {
      details: { credentialId, envName, file },
    })
  }
  if ((info.mode & 0o077) !== 0) {
    throw new SluiceError(
      'CREDENTIAL_FILE_INSECURE',
      `credentials file ${file} is accessible by group or others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${file}`,
      { details: { file } },
    )
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch {
    throw new SluiceError('CREDENTIAL_MISSING', `credentials file ${file} is unreadable or not valid JSON`, { details: { file } })
  }
  const entry = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>)[credentialId] : undefined
  if (entry === undefined) {
    throw new SluiceError('CREDENTIAL_MISSING', `credential "${credentialId}" not found: set ${envName} or add it to ${file}`, {
      details: { credentialId, envName, file },
    })
  }
  return toCredential(entry, `${file} ("${credentialId}")`)
}
