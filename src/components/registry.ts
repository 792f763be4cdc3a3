/**
 * The one explicit list of components. A new source is a folder under components/sources/ with its
 * zod config, its implementation, its definition (index.ts) and its tests, plus one line in
 * `sourceList`: the root config schema and its JSON Schema (config/pipeline.ts), the `validate`
 * summary and `assemble` (read limits, metadata kind, construction) all take it from here.
 * No import side effects.
 */
import type { SinkDefinition, SourceDefinition, SourceSchema } from '../api/component.ts'
import type { PostgresLoadConfig } from '../config/types.ts'
import { kafkaSource } from './sources/kafka/index.ts'
import { fileSource } from './sources/file/index.ts'
import { generatorSource } from './sources/generator/index.ts'
import { type PostgresParts, postgresSink } from './sinks/postgres/index.ts'

/** Every source, in the order the root schema (and its JSON Schema) lists them. */
export const sourceList = [kafkaSource, fileSource, generatorSource] as const

type ConfigOf<D> = D extends SourceDefinition<infer C> ? C : never

/** The `extract` section: one of the registered sources' configs, told apart by `sourceType`. */
export type ExtractConfig = ConfigOf<(typeof sourceList)[number]>

type SourceType = ExtractConfig['sourceType']
type ExtractOf<T extends SourceType> = Extract<ExtractConfig, { sourceType: T }>

/** Sources by `extract.sourceType`. */
export const sources = Object.fromEntries(sourceList.map((s) => [s.type, s])) as { readonly [T in SourceType]: SourceDefinition<ExtractOf<T>> }

/** A tuple of schemas, one per definition (a generic mapped type keeps the tuple's shape). */
type SchemasOf<L extends readonly unknown[]> = { readonly [K in keyof L]: SourceSchema<ConfigOf<L[K]>> }

/** The sources' `extract` schemas, as the discriminated union of the root schema takes them. */
export const sourceSchemas = sourceList.map((s) => s.schema) as unknown as SchemasOf<typeof sourceList>

/** Sinks by `load.sinkType`. */
export const sinks: { readonly postgresql: SinkDefinition<PostgresLoadConfig, PostgresParts> & typeof postgresSink } = {
  postgresql: postgresSink,
}

/** The source definition for an extract config. */
export function sourceFor<C extends ExtractConfig>(config: C): SourceDefinition<C> {
  return sources[config.sourceType] as unknown as SourceDefinition<C>
}
