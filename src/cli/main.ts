/**
 * The `sluice` command line. Exit codes: 0 success, 1 a pipeline or validation failed, 2 usage error
 * (a bad option or argument: one `error: ...` line from commander). No stack trace reaches a user:
 * anything unexpected is one `sluice: ...` line (SLUICE_DEBUG=1 adds the stack).
 */
// First, before anything loads the Kafka client: its option schemas compile on first use (start-up time).
import '../components/kafka/lazy-validators.ts'
import { pathToFileURL } from 'node:url'
import { Command, CommanderError } from 'commander'
import { registerRun } from './commands/run.ts'
import { registerValidate } from './commands/validate.ts'
import { registerSchema } from './commands/schema.ts'
import { registerStatus } from './commands/status.ts'
import { registerCleanup } from './commands/cleanup.ts'
import { registerSql } from './commands/sql.ts'
import { registerTest } from './commands/test.ts'
import { registerDlq } from './commands/dlq.ts'
import { registerReset } from './commands/reset.ts'
import { debugStack, installLastResort, oneLine } from './report-error.ts'

/** Builds the command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Streaming ETL from Kafka and files into PostgreSQL, exactly once.')
    .version('0.1.0')
  program.exitOverride()
  for (const register of [registerRun, registerValidate, registerSchema, registerStatus, registerCleanup, registerSql, registerTest, registerDlq, registerReset]) {
    register(program)
  }
  for (const command of program.commands) command.exitOverride()
  return program
}

/** Runs the CLI with `argv` (process.argv form); resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync([...argv])
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; everything else is a usage error.
      return err.exitCode === 0 ? 0 : 2
    }
    process.stderr.write(`sluice: ${oneLine(err)}\n`)
    debugStack(err)
    return 1
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  installLastResort()
  main(process.argv).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(`sluice: ${oneLine(err)}\n`)
      process.exitCode = 1
    },
  )
}
