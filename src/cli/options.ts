/**
 * Option values checked by commander itself (argParser, choices, env), so a bad value is one
 * `error: option ... is invalid` line and exit 2, before anything is loaded or started.
 */
import { InvalidArgumentError, Option } from 'commander'
import { LOG_LEVELS, type LogLevel } from '../observability/logger.ts'

/** A TCP port, 0-65535 (0 picks a free one). */
export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value.trim()) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free port)')
  return Number(value)
}

/** A whole number of days, 0 or more. */
export function parseDays(value: string): number {
  const n = Number(value.trim())
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number of days, 0 or more')
  return n
}

/** A host name or address for the Host check: letters, digits, `.`, `-`, `:` (IPv6), or `*`. */
export function parseHostName(value: string, previous: string[] = []): string[] {
  const name = value.trim().toLowerCase()
  if (!/^(\*|\[?[a-z0-9.:-]+\]?)$/.test(name)) throw new InvalidArgumentError('must be a host name or address (or * to answer any Host)')
  return [...previous, name]
}

/** A log level, in any case. */
export function parseLogLevel(value: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value.trim().toLowerCase())
  if (level === undefined) throw new InvalidArgumentError(`must be one of ${LOG_LEVELS.join(', ')}`)
  return level
}

/** `--log-level`, also read from SLUICE_LOG_LEVEL (checked the same way, so a typo there is refused too). */
export function logLevelOption(): Option {
  return new Option('--log-level <level>', `${LOG_LEVELS.join('|')} (default: monitoring.logLevel, else SLUICE_LOG_LEVEL, else info)`)
    .argParser(parseLogLevel)
    .env('SLUICE_LOG_LEVEL')
}
