import type * as z from 'zod'
import type { ReadLimits, Source, SourceKind, ValueEnvelope } from './source.ts'

/** The logging surface components may use (pino's, narrowed). Never log secrets. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

/** What the engine gives a component when it creates one. */
export interface ComponentContext {
  readonly pipelineId: string
  /** Folder of the pipeline file: relative paths in the config resolve against it. */
  readonly baseDir: string
  readonly logger: Logger
  /** Environment for credential lookup (process.env unless a test passes its own). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** The query runs until stopped (continuous or processingtime trigger), not to the end of a backlog. */
  readonly longRunning?: boolean
  /** The load schema file's content (`{ columns, primaryKey }`) when `load.schemaName` is set. */
  readonly loadSchema?: Readonly<Record<string, unknown>> | null
  /** Resolves a credentialId to user/password (environment or credentials file). */
  readonly resolveCredential?: (credentialId: string) => Promise<{ user?: string; password?: string }>
}

/**
 * The zod schema of one source's `extract` section: an object (possibly refined or transformed)
 * with a literal `sourceType`, so the root schema can put it in its discriminated union.
 */
export type SourceSchema<C> = z.ZodType<C> & z.core.$ZodTypeDiscriminable

/**
 * A source kind, as listed in components/registry.ts: everything the rest of Sluice needs to know
 * about it, so that adding a source is its folder plus one registry line.
 */
export interface SourceDefinition<C extends { readonly sourceType: string }> {
  readonly type: C['sourceType']
  /** What it reads, for `sluice components` and the docs. */
  readonly summary: string
  /** The `extract` schema (config/pipeline.ts joins them into the root schema and its JSON Schema). */
  readonly schema: SourceSchema<C>
  /** The `validate` summary of a config: the text after "extract   ". Never a secret. */
  describe(config: C): string
  /** Batch limits the source's own options set; they win over streamingConfigJson's maxRecordsPerTrigger / maxBytesPerTrigger. */
  readLimits(config: C): Pick<ReadLimits, 'maxRecords' | 'maxBytes'>
  /** Which metadata fields its records have. */
  readonly metadata: SourceKind
  /** The envelope its JSON values are in (the engine unwraps it when decoding); absent: `none`. */
  envelope?(config: C): ValueEnvelope
  /**
   * Why a dead letter of this config cannot be decoded again from its bytes alone (`sluice dlq
   * replay` decodes a dead letter's value as JSON); absent or null when it can.
   */
  unreplayable?(config: C): string | null
  create(config: C, ctx: ComponentContext): Source
}

/**
 * A sink kind, as listed in components/registry.ts. `create` gives the family's parts: a commit
 * store (api/store.ts) and the writers that write inside its transaction (api/writer.ts).
 */
export interface SinkDefinition<C, Parts> {
  readonly type: string
  readonly summary: string
  create(config: C, ctx: ComponentContext): Parts
}

/** A silent logger for tests and library use. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger
  },
}
