/** `sluice schema`: prints the JSON Schema of pipeline files (the same as schema/pipeline.schema.json). */
import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { pipelineJsonSchema } from '../../config/index.ts'

/** The schema as the text printed and shipped: pretty JSON with a trailing newline. */
export function schemaText(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`
}

/** Adds the `schema` command; `write` receives the output (stdout unless a test passes its own). */
export function registerSchema(program: Command, write: (text: string) => void = (t) => void process.stdout.write(t)): void {
  program
    .command('schema')
    .description('print the JSON Schema of pipeline files (for editors: "$schema" or json.schemas)')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (flags: { output?: string }) => {
      if (flags.output !== undefined) await writeFile(flags.output, schemaText())
      else write(schemaText())
      process.exitCode = 0
    })
}
