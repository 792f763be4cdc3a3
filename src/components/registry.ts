/**
 * The one explicit list of components. A new source or sink is a folder under components/ with
 * its zod config, its implementation and its tests, plus one line here. No import side effects.
 */
import type { SinkDefinition, SourceDefinition } from '../api/component.ts'
import type { ExtractConfig, PostgresLoadConfig } from '../config/index.ts'
import { kafkaSource } from './sources/kafka/index.ts'
import { fileSource } from './sources/file/index.ts'
import { generatorSource } from './sources/generator/index.ts'
import { type PostgresParts, postgresSink } from './sinks/postgres/index.ts'

type SourceType = ExtractConfig['sourceType']
type ExtractOf<T extends SourceType> = Extract<ExtractConfig, { sourceType: T }>

/** Sources by `extract.sourceType`. */
export const sources: { readonly [T in SourceType]: SourceDefinition<ExtractOf<T>> } = {
  kafka: kafkaSource,
  file: fileSource,
  generator: generatorSource,
}

/** Sinks by `load.sinkType`. */
export const sinks: { readonly postgresql: SinkDefinition<PostgresLoadConfig, PostgresParts> & typeof postgresSink } = {
  postgresql: postgresSink,
}

/** The source definition for an extract config. */
export function sourceFor<C extends ExtractConfig>(config: C): SourceDefinition<C> {
  return sources[config.sourceType] as unknown as SourceDefinition<C>
}
