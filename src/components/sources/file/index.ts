/**
 * `sourceType: file`: a folder of NDJSON or CSV files, read as new files arrive.
 */
import type { SourceDefinition } from '../../../api/component.ts'
import { type FileExtractConfig, fileExtractSchema } from './config.ts'
import { FileSource } from './file-source.ts'
import { envelopeNote } from '../value-envelope.ts'

export { FileSource, type FileSourceConfig, type FileSourceOptions } from './file-source.ts'

/** The file source kind for the component registry. */
export const fileSource: SourceDefinition<FileExtractConfig> = {
  type: 'file',
  summary:
    'Newline-delimited JSON or CSV files in a folder, read whole, in name or modification order. ' +
    'A file is read once it has not changed for stableMs (default 1 s); names starting with "." or "_" ' +
    'or ending in .tmp/.partial are ignored, so writing under such a name and renaming into place is safe.',
  schema: fileExtractSchema,
  describe: (e) => `file ${e.format} files in ${e.path}${e.pattern ? ` matching ${e.pattern}` : ''}, order ${e.order}, cleanSource ${e.cleanSource}${envelopeNote(e.envelope)}`,
  readLimits: () => ({}),
  metadata: 'file',
  envelope: (e) => e.envelope ?? 'none',
  // A CSV record's value is its line; the header that names the fields is not in the dead letter.
  unreplayable: (e) => (e.format === 'csv' ? 'a CSV dead letter is one line without the header that names its fields' : null),
  create(config, ctx) {
    return new FileSource(config, ctx)
  },
}
