/**
 * Config of transform steps, applied in order between source and sink: select, rename, filter,
 * cast, aggregate (optionally over event-time windows) and deduplicate.
 */
import * as z from 'zod'
import { always, duration, fieldPathText, lenientBool, lenientEnum, strictObject, text } from '../../config/lenient.ts'
import { FIELD_PATH_HELP, parseFieldPath } from '../../api/field-path.ts'
import type { TransformStep } from '../../config/types.ts'
import { sessionSchema, windowSchema } from './window-config.ts'

export type { TransformStep }

const columnList = (description: string) =>
  z.array(fieldPathText('Column name.'), { error: 'must be a list of column names or field paths' }).min(1, { error: 'must list at least one column' }).describe(description)

/** A record key that names a field to read: a plain name or a path (api/field-path.ts). */
const fieldPathKey = z.string().superRefine((s, ctx) => {
  const p = parseFieldPath(s)
  if ('error' in p) ctx.addIssue({ code: 'custom', input: s, message: `key "${s}": field path ${p.error}: must be ${FIELD_PATH_HELP}` })
})

/** A bad record key's own message (zod wraps it in an invalid_key issue). */
function firstMessage(iss: { issues?: readonly { message: string }[] }): string {
  return iss.issues?.[0]?.message ?? 'invalid key'
}

const nonEmptyRecord = <T extends z.ZodType>(value: T, description: string, key: z.ZodType<string> = z.string().min(1, { error: 'keys must be non-empty' })) =>
  z
    .record(key, value, { error: (iss) => (iss.code === 'invalid_key' ? firstMessage(iss) : 'must be an object') })
    .refine((r) => Object.keys(r).length > 0, { error: 'must have at least one entry' })
    .describe(description)

const filterOps = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'isnull', 'notnull'] as const

export const filterStepSchema = strictObject(
  {
    type: z.literal('filter'),
    field: fieldPathText('Field compared.'),
    op: lenientEnum(filterOps, 'Comparison.', { '=': 'eq', '==': 'eq', '!=': 'ne', '<>': 'ne', '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte', null: 'isnull', notnull: 'notnull' }),
    value: z.unknown().describe('Value compared against (a list for "in"; absent for isnull/notnull).').optional(),
  },
  'Keep records whose field satisfies the comparison.',
).check(
  z.superRefine((v, ctx) => {
    if (typeof v.op !== 'string') return
    const unary = v.op === 'isnull' || v.op === 'notnull'
    if (unary && v.value !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], input: v.value, message: `not used with op ${v.op}` })
    if (!unary && v.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], input: undefined, message: `required with op ${v.op}` })
    if (v.op === 'in' && !Array.isArray(v.value)) ctx.addIssue({ code: 'custom', path: ['value'], input: v.value, message: 'must be a list with op in' })
    // The pipeline file is read with JSON.parse: an integer past 2^53 has already lost digits here,
    // and the filter would compare against a neighbour of the number written. A string is exact.
    const values: unknown[] = Array.isArray(v.value) ? v.value : [v.value]
    values.forEach((x, i) => {
      if (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x)) {
        const path = Array.isArray(v.value) ? ['value', i] : ['value']
        ctx.addIssue({ code: 'custom', path, input: x, message: `numbers past 2^53 lose digits when the pipeline file is read (this one reads as ${BigInt(x)}): write it as a string, e.g. "9007199254740993"` })
      }
    })
  }, always),
)

export const aggregateStepSchema = strictObject(
  {
    type: z.literal('aggregate'),
    groupBy: z
      .array(fieldPathText('Column name.'), { error: 'must be a list of column names' })
      .describe('Grouping columns (default none); with window_start when windowed they key the result table (load.upsertKeys). A path\'s group column is named by the path as written: rename the field first for another name.')
      .default([]),
    aggregations: nonEmptyRecord(
      strictObject(
        {
          fn: lenientEnum(['count', 'sum', 'min', 'max', 'avg'], 'Aggregate function.', { average: 'avg', mean: 'avg' }),
          field: fieldPathText('Input field (not needed for count).').optional(),
        },
        'One output column.',
      ).check(
        z.superRefine((v, ctx) => {
          if (typeof v.fn === 'string' && v.fn !== 'count' && v.field === undefined) ctx.addIssue({ code: 'custom', path: ['field'], input: undefined, message: `required for fn ${v.fn}` })
        }, always),
      ),
      'Output column -> { fn, field }; an avg X also fills hidden columns X__sum and X__count.',
    ),
    window: windowSchema.optional(),
    session: sessionSchema.optional(),
    stateTimeout: duration('With a session window: a session also closes when no record has joined it for this long in processing time (Spark\'s GroupStateTimeout.ProcessingTimeTimeout), e.g. "30 minutes" (default: streamingConfigJson.stateTimeout; none: only the watermark closes it).', { positive: true }).optional(),
  },
  'Group records and aggregate them; must be the last step. In update and complete mode each micro-batch is merged into the target table by key; in append mode a window is written once, when the watermark passes its end (see README, Stateful operations).',
)

export const deduplicateStepSchema = strictObject(
  {
    type: z.literal('deduplicate'),
    keys: z.array(fieldPathText('Column name.'), { error: 'must be a list of column names' }).min(1, { error: 'must list at least one column' }).describe('Columns whose values identify a duplicate.'),
    withinWatermark: lenientBool("Spark's dropDuplicatesWithinWatermark: a key is remembered until the watermark passes its first event time plus the watermark delay (needs streamingConfigJson.watermark).").optional(),
    stateTimeout: duration('Forget a key after it has been idle this long in processing time, e.g. "1 hour" (default: streamingConfigJson.stateTimeout).', { positive: true }).optional(),
    onDuplicate: lenientEnum(['filter', 'dlq'], 'What a duplicate becomes: "filter" (default) counts it as filtered; "dlq" sends it to the DLQ with RECORD_DUPLICATE, so every repeat can be looked at.').optional(),
  },
  'Drop records whose key columns repeat an earlier record, in this batch or an earlier one (duplicates count as filtered); the keys are remembered in PostgreSQL in the batch transaction. Must be the last step (not with aggregate). See README "Stateful operations".',
).check(
  z.superRefine((v, ctx) => {
    if (v.withinWatermark === true && v.stateTimeout !== undefined) ctx.addIssue({ code: 'custom', path: ['stateTimeout'], input: v.stateTimeout, message: 'use withinWatermark or stateTimeout, not both' })
  }, always),
)

export const transformStepSchema = z.discriminatedUnion(
  'type',
  [
    strictObject({ type: z.literal('select'), columns: columnList('Columns kept, in order; a field path keeps the nested value as a column named by the path as written (rename it next).') }, 'Keep only the listed columns.'),
    strictObject(
      { type: z.literal('rename'), mapping: nonEmptyRecord(text('New name.'), 'Old name (or field path) -> new name; a path copies the nested value out and leaves its object as it is.', fieldPathKey) },
      'Rename columns.',
    ),
    filterStepSchema,
    strictObject(
      {
        type: z.literal('cast'),
        columns: nonEmptyRecord(
          lenientEnum(['string', 'int', 'float', 'boolean', 'timestamp', 'json'], 'Target type.', {
            text: 'string',
            integer: 'int',
            bigint: 'int',
            long: 'int',
            double: 'float',
            number: 'float',
            bool: 'boolean',
            jsonb: 'json',
          }),
          'Column (or field path: the nested value is converted in place) -> target type.',
          fieldPathKey,
        ),
      },
      'Convert column types.',
    ),
    aggregateStepSchema,
    deduplicateStepSchema,
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? 'step type must be one of "select", "rename", "filter", "cast", "aggregate", "deduplicate"' : undefined) },
)

export const transformSchema = z
  .array(transformStepSchema, { error: 'must be a list of transform steps' })
  .describe('Transform steps applied in order (default none).')
  .default([])

// The declared step union and the schema's output must agree.
const _stepCheck: (s: z.output<typeof transformStepSchema>) => TransformStep = (s) => s
void _stepCheck
