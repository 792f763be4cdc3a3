/** JSON Schema (draft 2020-12) of pipeline files, generated from the same zod schemas that parse them. */
import * as z from 'zod'
import { pipelineSchema } from './pipeline.ts'

/** Where the published schema lives; pipeline files may point at it with "$schema". */
export const schemaId = 'https://sluice.dev/schema/pipeline.schema.json'

/** The input-side JSON Schema: lenient spellings allowed by pattern, canonical ones listed in enums. */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(pipelineSchema, { target: 'draft-2020-12', io: 'input' })
  return { $schema: schema.$schema, $id: schemaId, title: 'Sluice pipeline', ...schema }
}
