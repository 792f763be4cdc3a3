/**
 * A tiny seeded generator of valid pipeline files in their lenient input form (random spellings,
 * strings for numbers, optional sections), for round-trip property tests.
 */

/** mulberry32: small, fast, deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Json = Record<string, unknown>

/** Generates one valid raw pipeline config from `seed`. */
export function generateConfig(seed: number): Json {
  const r = rng(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)] as T
  const maybe = (p = 0.5) => r() < p
  const name = () => pick(['orders', 'events', 'clicks', 'users', 'payments']) + int(0, 99)
  const num = (n: number) => (maybe() ? n : String(n))
  const spell = (w: string) => pick([w, w.toUpperCase(), w[0]?.toUpperCase() + w.slice(1)])
  const dur = () => pick([`${int(1, 59)} seconds`, `${int(1, 500)} ms`, `${int(1, 12)}h`, `${int(1, 90)} minutes`, int(0, 100000), '1.5 s', '2m'])

  const config: Json = { pipelineId: `${name()}-${int(0, 9)}` }
  if (maybe()) config['name'] = `Pipeline ${name()}`
  const streaming = maybe(0.7)
  config['mode'] = streaming ? spell('streaming') : pick(['batch', 'Batch'])

  const source = pick(['kafka', 'file', 'generator'] as const)
  if (source === 'kafka') {
    const topic = name()
    const cp: Json = { 'kafka.bootstrap.servers': `127.0.0.1:${int(9000, 9999)}` }
    if (maybe()) cp['subscribe'] = topic
    if (maybe()) cp['startingOffsets'] = pick(['earliest', 'Latest', `{"${topic}":{"0":${int(-2, 100)},"1":-2}}`, { [topic]: { '0': int(-2, 500) } }])
    if (maybe()) cp['maxOffsetsPerTrigger'] = num(int(1, 100000))
    if (maybe()) cp['failOnDataLoss'] = pick([true, false, 'false', 'TRUE'])
    if (maybe()) cp['kafka.client.id'] = `client-${int(0, 9)}`
    if (maybe(0.3)) cp['kafka.sasl.jaas.config'] = 'org.apache.kafka.common.security.plain.PlainLoginModule required;'
    config['extract'] = { sourceType: 'kafka', topic, connectionParams: cp, ...(maybe() ? { credentialId: 'kafka-cred' } : {}) }
  } else if (source === 'file') {
    const cleanSource = pick(['off', 'archive', 'DELETE'])
    config['extract'] = {
      sourceType: 'file',
      path: `./data/${name()}`,
      ...(maybe() ? { format: pick(['json', 'csv', 'ndjson']) } : {}),
      ...(maybe() ? { pattern: '*.ndjson' } : {}),
      ...(maybe() ? { order: pick(['name', 'mtime']) } : {}),
      cleanSource,
      ...(cleanSource === 'archive' ? { sourceArchiveDir: './archive' } : {}),
      ...(maybe() ? { csv: { header: maybe(), delimiter: pick([',', ';', '\t']) } } : {}),
    }
  } else {
    const lo = int(-100, 100)
    config['extract'] = {
      sourceType: 'generator',
      ...(maybe() ? { rowsPerSecond: num(int(1, 10000)) } : {}),
      ...(maybe() ? { totalRecords: num(int(1, 1_000_000)) } : {}),
      ...(maybe() ? { partitions: int(1, 8) } : {}),
      ...(maybe() ? { seed: int(0, 1000) } : {}),
      fields: {
        id: { type: 'sequence' },
        n: { type: 'int', min: lo, max: lo + int(0, 100) },
        x: { type: 'float', min: 0, max: 1.5 },
        c: { type: 'choice', values: ['a', 1, true] },
        ts: { type: 'timestamp', ...(maybe() ? { jitterMs: int(0, 5000) } : {}) },
        u: { type: 'uuid' },
        s: { type: 'string', length: int(1, 20) },
      },
    }
  }

  const aggregate = maybe(0.4)
  const steps: Json[] = []
  if (maybe()) steps.push({ type: 'filter', field: 'amount', op: pick(['gt', '>', 'in', 'isnull']), value: 3 })
  const last = steps[steps.length - 1]
  if (last && last['op'] === 'in') last['value'] = [1, 2]
  if (last && last['op'] === 'isnull') delete last['value']
  if (maybe()) steps.push({ type: 'rename', mapping: { a: 'b' } })
  if (maybe()) steps.push({ type: 'cast', columns: { amount: pick(['float', 'double', 'int']), at: 'timestamp' } })
  if (maybe()) steps.push({ type: 'select', columns: ['a', 'b'] })
  const windowed = aggregate && maybe()
  if (aggregate) {
    steps.push({
      type: 'aggregate',
      groupBy: ['region'],
      aggregations: { n: { fn: 'count' }, total: { fn: pick(['sum', 'max', 'avg']), field: 'amount' } },
      ...(windowed ? { window: { column: 'ts', duration: pick(['1 minute', '5 minutes', '30 s']) } } : {}),
    })
  }
  if (steps.length > 0 || maybe()) config['transform'] = steps

  // An aggregate step is written by upsert on its key (group columns, window_start when windowed).
  const writeMode = aggregate ? pick(['upsert', 'Upsert']) : pick(['append', 'overwrite', 'upsert', 'Upsert'])
  const upsert = writeMode.toLowerCase() === 'upsert'
  const aggregateKeys = windowed ? pick([['region', 'window_start'], 'window_start, region']) : pick([['region'], 'region'])
  const embedded = maybe(0.3)
  config['load'] = {
    sinkType: pick(['postgresql', 'postgres', 'pg']),
    table: name(),
    writeMode,
    ...(upsert ? { upsertKeys: aggregate ? aggregateKeys : pick([['id'], ['id', 'region'], 'id']) } : {}),
    ...(upsert && !aggregate && maybe() ? { deleteOnTombstone: true } : {}),
    ...(maybe() ? { autoCreateTable: maybe() } : {}),
    ...(maybe(0.3) ? { autoEvolve: pick([true, false, 'true']) } : {}),
    ...(embedded ? { embedded: true } : {}),
    ...(embedded
      ? maybe() ? { connectionParams: { url: `pglite://./data/db${int(0, 9)}` } } : {}
      : {
          connectionParams: maybe()
            ? { url: `postgres://postgres:pw${int(0, 9)}@127.0.0.1:5432/test`, ...(maybe() ? { currentSchema: 's1' } : {}) }
            : { host: '127.0.0.1', port: num(5432), database: 'test', user: 'postgres', ...(maybe() ? { password: 'secret' } : {}), ...(maybe() ? { batchsize: num(1000) } : {}) },
        }),
  }

  const dlq = maybe() ? { dlqConfig: pick([{ dlqType: 'kafka', bootstrapServers: 'k:9092', topic: 'dlq' }, { dlqType: 'pg', table: 'dead' }]) } : {}
  if (streaming || maybe(0.3)) {
    const watermark = maybe()
    const sc: Json = { checkpointLocation: `/tmp/cp/${name()}`, queryName: name() }
    if (aggregate || maybe()) sc['outputMode'] = aggregate ? pick(['update', 'complete', 'Complete']) : pick(['append', 'update'])
    if (maybe()) sc['triggerMode'] = pick(['once', 'availableNow', 'available-now', 'continuous', `ProcessingTime=${int(1, 60)}s`, `processing_time=${int(1, 10)} minutes`, 'processingtime=1.5 s'])
    if (watermark) sc['watermark'] = { eventTimeColumn: 'ts', delayThreshold: dur() }
    if (watermark && maybe()) {
      sc['lateDataConfig'] = pick([{ strategy: 'drop' }, { strategy: 'logdrop' }, { strategy: 'dlq', dlqTopic: 'late' }, { strategy: 'separate', separateTable: 'late_rows' }])
    }
    if (maybe()) sc['enableIdempotence'] = aggregate || maybe()
    if (maybe()) sc['maxRecordsPerTrigger'] = num(int(1, 100000))
    if (maybe()) sc['maxFilesPerTrigger'] = int(1, 100)
    if (maybe()) sc['stateTimeout'] = pick(['1 hour', '30 minutes', 5000])
    config['streamingConfigJson'] = sc
  }
  if (maybe() || Object.keys(dlq).length > 0) {
    config['errorHandlingConfig'] = {
      ...(maybe() ? { retryConfig: { strategy: pick(['exponential', 'linear', 'fixed', 'none']), maxAttempts: num(int(1, 10)), initialDelaySeconds: int(0, 5), maxDelaySeconds: int(5, 600) } } : {}),
      ...(maybe() ? { circuitBreakerConfig: { enabled: maybe(), failureThreshold: int(1, 20), resetTimeoutSeconds: int(1, 300) } } : {}),
      ...dlq,
      ...(maybe() ? { failFast: maybe() } : {}),
    }
  }
  if (maybe()) config['schemaDir'] = './schemas'
  if (maybe()) {
    config['monitoring'] = {
      ...(maybe() ? { httpPort: num(int(0, 65535)) } : {}),
      ...(maybe() ? { logLevel: pick(['debug', 'INFO', 'warn']) } : {}),
      ...(maybe() ? { cleanupIntervalHours: 24 } : {}),
      ...(maybe() ? { shutdownTimeoutSeconds: 10 } : {}),
    }
  }
  return config
}
