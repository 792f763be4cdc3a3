/** Shared fixtures for config tests: a minimal valid pipeline per source, as raw JSON. */

export type JsonObject = Record<string, unknown>

/** A minimal valid Kafka -> PostgreSQL streaming pipeline (fresh copy each call). */
export function kafkaPipeline(): JsonObject {
  return {
    pipelineId: 'orders-1',
    mode: 'streaming',
    extract: {
      sourceType: 'kafka',
      topic: 'orders',
      connectionParams: { 'kafka.bootstrap.servers': '127.0.0.1:9092' },
    },
    load: {
      sinkType: 'postgresql',
      table: 'orders',
      connectionParams: { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' },
    },
    streamingConfigJson: { checkpointLocation: '/tmp/cp', queryName: 'orders-q' },
  }
}

/** A minimal valid file -> embedded PostgreSQL batch pipeline. */
export function filePipeline(): JsonObject {
  return {
    pipelineId: 'files',
    extract: { sourceType: 'file', path: './in' },
    load: { sinkType: 'pg', table: 'events', embedded: true },
  }
}

/** A minimal valid generator pipeline. */
export function generatorPipeline(): JsonObject {
  return {
    pipelineId: 'gen',
    extract: { sourceType: 'generator', fields: { id: { type: 'sequence' } } },
    load: { sinkType: 'postgres', table: 'gen', connectionParams: { url: 'postgres://postgres@127.0.0.1:5432/test' } },
  }
}

/** Sets `value` at a dotted path (creating objects on the way); `undefined` deletes the key. */
export function setAt(obj: JsonObject, path: string, value: unknown): JsonObject {
  const keys = path.split('.')
  let cur: JsonObject = obj
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {}
    cur = cur[k] as JsonObject
  }
  const last = keys[keys.length - 1] ?? ''
  if (value === undefined) delete cur[last]
  else cur[last] = value
  return obj
}
