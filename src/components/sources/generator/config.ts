/**
 * Config of the generator source (like Spark's rate source): synthetic records from a small field
 * spec, at a rate or as fast as possible, repeatable through `seed`.
 */
import * as z from 'zod'
import { lenientInt, lenientNumber, strictObject, text } from '../../../config/lenient.ts'

/** One generated field's spec. */
export type GeneratorField =
  | { type: 'sequence' }
  | { type: 'int'; min: number; max: number }
  | { type: 'float'; min: number; max: number }
  | { type: 'choice'; values: (string | number | boolean)[] }
  | { type: 'timestamp'; jitterMs?: number }
  | { type: 'uuid' }
  | { type: 'string'; length: number }

export type GeneratorExtractConfig = {
  sourceType: 'generator'
  rowsPerSecond?: number
  totalRecords?: number
  partitions: number
  seed: number
  fields: Record<string, GeneratorField>
  schemaName?: string
}

const rangeCheck = z.superRefine((v: { min: number; max: number }, ctx) => {
  if (v.max < v.min) ctx.addIssue({ code: 'custom', path: ['max'], input: v.max, message: `must be >= min (${v.min})` })
})

export const generatorFieldSchema = z.discriminatedUnion(
  'type',
  [
    strictObject({ type: z.literal('sequence') }, 'Increasing integer: 0, 1, 2, ... per partition.'),
    strictObject(
      { type: z.literal('int'), min: lenientInt({}, 'Smallest value.').default(0), max: lenientInt({}, 'Largest value.').default(1000) },
      'Uniform random integer in [min, max].',
    ).check(rangeCheck),
    strictObject(
      { type: z.literal('float'), min: lenientNumber({}, 'Smallest value.').default(0), max: lenientNumber({}, 'Largest value.').default(1) },
      'Uniform random number in [min, max).',
    ).check(rangeCheck),
    strictObject(
      {
        type: z.literal('choice'),
        values: z
          .array(z.union([z.string(), z.number(), z.boolean()]), { error: 'must be a list of strings, numbers or booleans' })
          .min(1, { error: 'must list at least one value' })
          .describe('Values picked uniformly.'),
      },
      'One of the listed values.',
    ),
    strictObject(
      { type: z.literal('timestamp'), jitterMs: lenientInt({ min: 0 }, 'Random lateness subtracted from now, ms (late data on purpose).').optional() },
      'Current time as an ISO string, optionally jittered into the past.',
    ),
    strictObject({ type: z.literal('uuid') }, 'Random UUID (seeded).'),
    strictObject({ type: z.literal('string'), length: lenientInt({ min: 1 }, 'Length of the string.').default(8) }, 'Random alphanumeric string.'),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? 'field type must be one of "sequence", "int", "float", "choice", "timestamp", "uuid", "string"' : undefined) },
)

export const generatorExtractSchema = strictObject(
  {
    sourceType: z.literal('generator'),
    rowsPerSecond: lenientNumber({ min: 0, exclusiveMin: true }, 'Records per second over all partitions; absent = as fast as possible.').optional(),
    totalRecords: lenientInt({ min: 1 }, 'Stop after this many records; absent = unbounded.').optional(),
    partitions: lenientInt({ min: 1 }, 'Number of partitions (default 1).').default(1),
    seed: lenientInt({}, 'Random seed (default 42): the same seed gives the same records.').default(42),
    fields: z
      .record(z.string().min(1), generatorFieldSchema, { error: 'must be an object of field name -> { "type": ... }' })
      .refine((r) => Object.keys(r).length > 0, { error: 'must define at least one field' })
      .describe('Record fields: name -> generator spec.'),
    schemaName: text('Name of the record schema in schemaDir.').optional(),
  },
  'Generator source: synthetic records for demos and benchmarks.',
)

// The declared field union and the schema's output must agree.
const _fieldCheck: (f: z.output<typeof generatorFieldSchema>) => GeneratorField = (f) => f
void _fieldCheck
