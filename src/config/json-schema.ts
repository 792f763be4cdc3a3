/** JSON Schema (draft 2020-12) of pipeline files, generated from the same zod schemas that parse them. */
import * as z from 'zod'
import { pipelineSchema } from './pipeline.ts'

/**
 * The input-side JSON Schema: canonical spellings listed in enums (for completion), lenient spellings,
 * numeric strings and `${VAR}` references allowed by pattern. Cross-field rules are not expressed;
 * `sluice validate` checks those.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(pipelineSchema, { target: 'draft-2020-12', io: 'input' })
  return { $schema, title: 'Sluice pipeline', ...rest }
}
