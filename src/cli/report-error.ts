/** Prints a SluiceError for a command and returns exit code 1. */
import type { SluiceError } from '../errors.ts'

/** Writes the error to stderr (or as JSON to stdout) and returns 1. */
export function reportError(error: SluiceError, json: boolean): number {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: error.toJSON() }, null, 2)}\n`)
  } else {
    process.stderr.write(`sluice: ${error.code}: ${error.message}\n`)
    const issues = error.details.issues
    if (Array.isArray(issues)) for (const i of issues as { path: string; message: string }[]) process.stderr.write(`  ${i.path}: ${i.message}\n`)
  }
  return 1
}
