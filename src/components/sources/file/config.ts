/**
 * Config of the file source (Spark's file stream source): a directory of NDJSON or CSV files, read in
 * name or modification-time order, optionally archived or deleted once committed (`cleanSource`).
 */
import * as z from 'zod'
import { always, lenientBool, lenientEnum, lenientInt, strictObject, text } from '../../../config/lenient.ts'
import { type ValueEnvelope, envelopeSchema } from '../value-envelope.ts'

/** The parsed `extract` of a file source. */
export type FileExtractConfig = {
  sourceType: 'file'
  path: string
  format: 'json' | 'csv'
  pattern?: string
  order: 'name' | 'mtime'
  cleanSource: 'off' | 'archive' | 'delete'
  sourceArchiveDir?: string
  csv: { header: boolean; delimiter: string; maxRecordBytes?: number }
  /** Quiet time (ms) before a file counts as complete: its size and mtime must not change for this long. */
  stableMs: number
  schemaName?: string
  /** NDJSON lines in Kafka Connect's JsonConverter envelope (`connect`) or not (absent, `none`). */
  envelope?: ValueEnvelope
}

export const csvOptionsSchema = strictObject(
  {
    header: lenientBool('First line holds column names (default true).').default(true),
    delimiter: z
      .string({ error: 'must be a single character' })
      .length(1, { error: 'must be a single character' })
      .refine((d) => d !== '"' && d !== '\n' && d !== '\r', { error: 'must not be a quote or a line break' })
      .describe('Field separator (default ",").')
      .default(','),
    maxRecordBytes: lenientInt({ min: 1 }, 'Longest CSV record in bytes while a quoted field is open (default 16777216 = 16 MiB); past it the opening quote counts as stray and the record\'s first line is a dead letter.').optional(),
  },
  'CSV options (format csv).',
)

export const fileExtractSchema = strictObject(
  {
    sourceType: z.literal('file'),
    path: text('Directory watched for files (relative to the pipeline file).'),
    format: lenientEnum(['json', 'csv'], 'File format: "json" = newline-delimited JSON (default), "csv".', { ndjson: 'json', jsonl: 'json', jsonlines: 'json' }).default('json'),
    pattern: text('Glob of file names to read, e.g. "*.ndjson" (default: every file).').optional(),
    order: lenientEnum(['name', 'mtime'], 'Order files are read in: "name" (default) or "mtime" (modification time).', { modificationtime: 'mtime', time: 'mtime' }).default('name'),
    cleanSource: lenientEnum(['off', 'archive', 'delete'], 'What happens to a file once its batch committed: "off" (default), "archive" (move to sourceArchiveDir), "delete".').default('off'),
    sourceArchiveDir: text('Archive folder for cleanSource archive.').optional(),
    csv: csvOptionsSchema.default({ header: true, delimiter: ',' }),
    stableMs: lenientInt({ min: 0 }, 'A file is read once it has not been modified for this many milliseconds (default 1000); 0 for files renamed into place.').default(1000),
    schemaName: text('Name of the record schema in schemaDir.').optional(),
    envelope: envelopeSchema.optional(),
  },
  'File source: a directory of NDJSON or CSV files.',
).check(
  z.superRefine((v, ctx) => {
    if (v.cleanSource === 'archive' && v.sourceArchiveDir === undefined) {
      ctx.addIssue({ code: 'custom', path: ['sourceArchiveDir'], input: undefined, message: 'required when cleanSource is archive: the folder processed files move to' })
    }
    if (v.envelope === 'connect' && v.format === 'csv') {
      ctx.addIssue({ code: 'custom', path: ['envelope'], input: v.envelope, message: 'the Kafka Connect envelope is JSON: only with format json' })
    }
    if (v.cleanSource !== 'archive' && v.sourceArchiveDir !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sourceArchiveDir'], input: v.sourceArchiveDir, message: 'only used when cleanSource is archive' })
    }
  }, always),
)
