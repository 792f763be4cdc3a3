/**
 * Error output of the commands: one clear line (plus the config issues, one per line), scrubbed of
 * secrets, never a stack trace. Stack traces are for Sluice's developers: SLUICE_DEBUG=1 prints
 * them too.
 */
import { type ConfigIssue, formatIssue } from '../config/index.ts'
import type { SluiceError } from '../errors.ts'
import { redactSecrets, redactText } from '../secrets.ts'

/** The message of anything thrown, as one secret-free line. */
export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return redactText(message.split('\n')[0] ?? '').trim() || (err instanceof Error ? err.name : 'unknown error')
}

/** Writes the stack of `err` to stderr when SLUICE_DEBUG is set (for bug reports). */
export function debugStack(err: unknown): void {
  if (process.env.SLUICE_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${redactText(err.stack)}\n`)
}

/** Writes the error to stderr (or as JSON to stdout) and returns 1. */
export function reportError(error: SluiceError, json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: redactSecrets(error.toJSON()) }, null, 2)}\n`)
  } else {
    const issues = error.details.issues
    if (Array.isArray(issues)) {
      // The message lists at most five issues; the details carry them all.
      process.stderr.write(`sluice: ${error.code}: ${oneLine(error)}\n`)
      for (const i of issues as ConfigIssue[]) process.stderr.write(`  ${redactText(formatIssue(i))}\n`)
    } else {
      process.stderr.write(`sluice: ${error.code}: ${redactText(error.message)}\n`)
    }
  }
  if (error.code === 'INTERNAL') debugStack(error.cause ?? error)
  return 1
}

/**
 * Last resort for errors nothing awaited (a library's stray rejection, a throw in a timer): one
 * line and exit 1 instead of Node's stack trace.
 */
export function installLastResort(): void {
  const fatal = (err: unknown): void => {
    process.stderr.write(`sluice: internal error: ${oneLine(err)} (SLUICE_DEBUG=1 shows where)\n`)
    debugStack(err)
    process.exit(1)
  }
  process.on('uncaughtException', fatal)
  process.on('unhandledRejection', fatal)
}
