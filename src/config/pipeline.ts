/**
 * The root schema of a pipeline file, assembled from the component schemas, with the rules that
 * span several sections (a streaming pipeline needs streamingConfigJson, complete output needs an
 * aggregation, an aggregation needs update/complete output and an upsert on its key, a DLQ
 * strategy needs a DLQ, Debezium change events need an upsert by key).
 */
import * as z from 'zod'
import { sourceList, sourceSchemas } from '../components/registry.ts'
import { postgresLoadSchema } from '../components/sinks/postgres/config.ts'
import { parseQualified } from '../components/sinks/postgres/sql/quote.ts'
import { isTableTemplate, parseTableTemplate, routedTable } from '../components/sinks/postgres/table-template.ts'
import { transformSchema } from '../components/transforms/config.ts'
import { errorHandlingConfigSchema } from './error-handling.ts'
import { lenientEnum, strictObject, text } from './lenient.ts'
import { monitoringConfigSchema } from './monitoring.ts'
import { streamingConfigSchema } from './streaming.ts'
import type { PipelineConfig } from './types.ts'

const sourceTypes = sourceList.map((s) => JSON.stringify(s.type)).join(', ')

/** The sources of components/registry.ts, told apart by sourceType. */
export const extractSchema = z
  .discriminatedUnion('sourceType', sourceSchemas, {
    error: (iss) => (iss.code === 'invalid_union' ? `sourceType must be one of ${sourceTypes}` : undefined),
  })
  .describe('Where records come from; sourceType selects the source.')

const pipelineIdPattern = /^[A-Za-z0-9._-]{1,255}$/

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * The aggregate step must be the last step and its write exactly once (an at-least-once replay
 * would add a batch twice). In update and complete mode it keeps its result in the target table
 * and merges each batch into it by key: the table is written by upsert on exactly its key. In
 * append mode (Spark's) each window's row is written once, when the watermark passes its end: it
 * needs a window on the watermark's column, and the table is appended to.
 */
function aggregateRules(steps: readonly unknown[], streaming: Record<string, unknown> | undefined, load: Record<string, unknown> | undefined, ctx: z.RefinementCtx<Record<string, unknown>>): void {
  const at = steps.findIndex((s) => isRecord(s) && s['type'] === 'aggregate')
  const step = steps[at]
  if (!isRecord(step)) return
  if (at !== steps.length - 1) {
    ctx.addIssue({ code: 'custom', path: ['transform', at], input: step, message: 'the aggregate step must be the last transform step (steps after it would see groups, not records)' })
  }
  const groupBy = Array.isArray(step['groupBy']) ? step['groupBy'].filter((g): g is string => typeof g === 'string') : []
  const session = isRecord(step['session'])
  const windowed = isRecord(step['window']) || session
  if (isRecord(step['window']) && session) {
    ctx.addIssue({ code: 'custom', path: ['transform', at, 'session'], input: step['session'], message: 'an aggregate step has either a window or a session, not both' })
  }
  if (step['stateTimeout'] !== undefined && !session) {
    ctx.addIssue({ code: 'custom', path: ['transform', at, 'stateTimeout'], input: step['stateTimeout'], message: 'stateTimeout applies to a session window (a session closes after that long without a record); a window closes by the watermark alone' })
  }
  if (session && streaming?.['outputMode'] === 'update') {
    ctx.addIssue({
      code: 'custom',
      path: ['streamingConfigJson', 'outputMode'],
      input: 'update',
      message: 'a session window needs outputMode "append" (a session is written once, when it closes) or "complete" (every session, rows replaced as sessions merge); Spark refuses update with sessions',
    })
  }
  if (groupBy.length === 0 && !windowed) {
    ctx.addIssue({ code: 'custom', path: ['transform', at, 'groupBy'], input: step['groupBy'], message: 'the aggregate step needs at least one groupBy column or a window: they key its rows in the table' })
  }
  const key = windowed ? [...groupBy, 'window_start'] : groupBy
  const names = isRecord(step['aggregations']) ? Object.entries(step['aggregations']) : []
  const taken = new Set([...groupBy, ...(windowed ? ['window_start', 'window_end'] : [])])
  for (const [name, a] of names) {
    const hidden = isRecord(a) && a['fn'] === 'avg' ? [name, `${name}__sum`, `${name}__count`] : [name]
    for (const h of hidden) {
      if (taken.has(h)) ctx.addIssue({ code: 'custom', path: ['transform', at, 'aggregations', name], input: a, message: `output column ${h} is also a group or window column, or another aggregation's` })
      taken.add(h)
    }
  }
  const append = streaming?.['outputMode'] === 'append'
  if (append) appendModeRules(step, at, streaming, ctx)
  if (streaming?.['enableIdempotence'] === false) {
    ctx.addIssue({
      code: 'custom',
      path: ['streamingConfigJson', 'enableIdempotence'],
      input: false,
      message: 'an aggregate step needs enableIdempotence true: an at-least-once replay would merge a batch into the totals twice',
    })
  }
  if (load === undefined) return
  const keyText = JSON.stringify(key)
  if (append) {
    if (load['writeMode'] !== 'append') {
      ctx.addIssue({ code: 'custom', path: ['load', 'writeMode'], input: load['writeMode'], message: 'in outputMode append the aggregate step writes each window\'s row once, when the watermark passes its end: use writeMode "append"' })
    }
  } else if (load['writeMode'] !== 'upsert') {
    ctx.addIssue({ code: 'custom', path: ['load', 'writeMode'], input: load['writeMode'], message: `an aggregate step merges into the table by key: use writeMode "upsert" with upsertKeys ${keyText}` })
  } else {
    const keys = Array.isArray(load['upsertKeys']) ? load['upsertKeys'] : []
    if (keys.length !== key.length || !key.every((k) => keys.includes(k))) {
      ctx.addIssue({ code: 'custom', path: ['load', 'upsertKeys'], input: load['upsertKeys'], message: `with an aggregate step the upsert keys are its group columns${windowed ? ' and window_start' : ''}: ${keyText}` })
    }
  }
  if (load['deleteOnTombstone'] === true) {
    ctx.addIssue({ code: 'custom', path: ['load', 'deleteOnTombstone'], input: true, message: 'not allowed with an aggregate step (a tombstone cannot un-count its group)' })
  }
  if (load['columnMapping'] !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['load', 'columnMapping'], input: load['columnMapping'], message: "not used with an aggregate step (its columns are its groups and aggregations): give the aggregate's groupBy and field the field paths instead" })
  }
}

/** outputMode append with an aggregate step: a window or session, a watermark, on the watermark's column. */
function appendModeRules(step: Record<string, unknown>, at: number, streaming: Record<string, unknown> | undefined, ctx: z.RefinementCtx<Record<string, unknown>>): void {
  const field = isRecord(step['session']) ? 'session' : 'window'
  const window = isRecord(step[field]) ? (step[field] as Record<string, unknown>) : undefined
  const watermark = isRecord(streaming?.['watermark']) ? streaming['watermark'] : undefined
  if (window === undefined || watermark === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: window === undefined ? ['transform', at, field] : ['streamingConfigJson', 'watermark'],
      input: window === undefined ? step['window'] : undefined,
      message: 'outputMode append with an aggregate step needs a window and streamingConfigJson.watermark: a window\'s row is written once, when the watermark passes its end (use outputMode "update" or "complete" for a running result without them)',
    })
    return
  }
  if (window['column'] !== watermark['eventTimeColumn']) {
    ctx.addIssue({ code: 'custom', path: ['transform', at, field, 'column'], input: window['column'], message: `in outputMode append the ${field} column must be the watermark's eventTimeColumn ${JSON.stringify(watermark['eventTimeColumn'])}: windows close when the watermark passes their end` })
  }
}

/**
 * The deduplicate step remembers keys in PostgreSQL across batches: it is the last step (a step
 * after it could change the keys it judged), not combined with an aggregate (which folds rows before
 * the transaction where duplicates are decided), and its state must expire: withinWatermark with a
 * watermark, or a stateTimeout (its own or streamingConfigJson's).
 */
function deduplicateRules(steps: readonly unknown[], streaming: Record<string, unknown> | undefined, ctx: z.RefinementCtx<Record<string, unknown>>): void {
  const at = steps.findIndex((s) => isRecord(s) && s['type'] === 'deduplicate')
  if (at < 0) return
  const step = steps[at] as Record<string, unknown>
  if (at !== steps.length - 1) {
    ctx.addIssue({ code: 'custom', path: ['transform', at], input: step, message: 'the deduplicate step must be the last transform step (a step after it could change the keys it judged)' })
  }
  if (steps.some((s) => isRecord(s) && s['type'] === 'aggregate')) {
    ctx.addIssue({ code: 'custom', path: ['transform', at], input: step, message: 'a deduplicate step cannot be combined with an aggregate step (yet): deduplicate in one pipeline, aggregate its table in another' })
  }
  const within = step['withinWatermark'] === true || (typeof step['withinWatermark'] === 'string' && step['withinWatermark'].trim().toLowerCase() === 'true')
  if (within && streaming?.['watermark'] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['transform', at, 'withinWatermark'], input: step['withinWatermark'], message: 'withinWatermark needs streamingConfigJson.watermark (a key is remembered until the watermark passes its event time plus the delay)' })
  }
  if (!within && step['stateTimeout'] === undefined && streaming?.['stateTimeout'] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['transform', at], input: step, message: 'a deduplicate step needs withinWatermark: true or a stateTimeout (here or in streamingConfigJson): remembered keys must expire' })
  }
}

/**
 * Debezium change events are applied to the table by key (`extract.envelope: "debezium"`): upsert on
 * upsertKeys, the key a `d` event deletes. Its tombstones are skipped (the delete event deleted the
 * row), so deleteOnTombstone has nothing to do, and an aggregate could not un-count a deleted row.
 */
function debeziumRules(extract: Record<string, unknown>, load: Record<string, unknown> | undefined, aggregates: boolean, ctx: z.RefinementCtx<Record<string, unknown>>): void {
  if (extract['envelope'] !== 'debezium') return
  const why = 'extract.envelope "debezium" applies change events by key'
  if (aggregates) ctx.addIssue({ code: 'custom', path: ['extract', 'envelope'], input: 'debezium', message: `${why}: not with an aggregate step (a delete cannot un-count its group); aggregate the mirror table in another pipeline` })
  if (load === undefined) return
  if (load['writeMode'] !== 'upsert') {
    ctx.addIssue({ code: 'custom', path: ['load', 'writeMode'], input: load['writeMode'], message: `${why}: use writeMode "upsert" with upsertKeys (the table's primary key columns, e.g. ["id"])` })
  } else if (load['upsertKeys'] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['load', 'upsertKeys'], input: undefined, message: `${why}: required, the columns a delete event's key is matched against (the source table's primary key, e.g. ["id"])` })
  }
  if (load['deleteOnTombstone'] === true) {
    ctx.addIssue({ code: 'custom', path: ['load', 'deleteOnTombstone'], input: true, message: `not used with ${why}: op "d" deletes, and the tombstone Debezium sends after it is skipped` })
  }
}

/**
 * A `{topic}` template in load.table routes each record by its Kafka topic to a table of its own
 * (table-template.ts); deletes (tombstones, Debezium `d` events) go to their topic's table too.
 * What is the whole pipeline's rather than one table's cannot be routed: overwrite (a batch holds
 * only some topics), the aggregate and deduplicate steps (state of the pipeline, not of a table). A `subscribe` list is checked for
 * table names over 63 bytes now; a pattern's topics are known only at run time (RECORD_ROUTE).
 */
function routingRules(v: Record<string, unknown>, steps: readonly unknown[], ctx: z.RefinementCtx<Record<string, unknown>>): void {
  const load = isRecord(v['load']) ? v['load'] : undefined
  const table = load?.['table']
  if (typeof table !== 'string' || !isTableTemplate(table)) return
  const template = parseTableTemplate(table)
  if ('error' in template) return // the load schema reported it
  const why = `load.table ${JSON.stringify(table)} writes one table per Kafka topic`
  const extract = isRecord(v['extract']) ? v['extract'] : undefined
  if (extract !== undefined && extract['sourceType'] !== 'kafka') {
    ctx.addIssue({ code: 'custom', path: ['load', 'table'], input: table, message: `a {topic} template needs sourceType "kafka" (the source is ${JSON.stringify(extract['sourceType'])}, whose records have no topic): name one table, e.g. "events"` })
    return
  }
  if (load?.['writeMode'] === 'overwrite') {
    ctx.addIssue({ code: 'custom', path: ['load', 'writeMode'], input: 'overwrite', message: `${why}: use "append" or "upsert" (overwrite would empty only the tables of the topics a batch happens to hold)` })
  }
  steps.forEach((s, at) => {
    if (!isRecord(s) || (s['type'] !== 'aggregate' && s['type'] !== 'deduplicate')) return
    const reason = s['type'] === 'aggregate' ? 'its groups and windows fold the records of every topic together, so a result row has no topic to route by' : 'the keys it remembers are the pipeline\'s, so a key seen in one topic would drop the same key in another table'
    ctx.addIssue({ code: 'custom', path: ['transform', at], input: s['type'], message: `the ${String(s['type'])} step cannot be combined with ${why}: ${reason}; use a pipeline per topic with a plain table name` })
  })
  if (load?.['writeMode'] === 'upsert' && load['upsertKeys'] === undefined && load['schemaName'] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['load', 'upsertKeys'], input: undefined, message: `required with ${why} (the same key columns in every table, e.g. ["id"]), or a load schemaName with a primaryKey` })
  }
  const params = isRecord(extract?.['connectionParams']) ? extract['connectionParams'] : undefined
  const named = [params?.['subscribe'], extract?.['topic']].filter((t): t is string => typeof t === 'string')
  const listed = named.flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t.length > 0)
  for (const topic of listed) {
    const target = routedTable(template, topic)
    if (target instanceof Error) ctx.addIssue({ code: 'custom', path: ['load', 'table'], input: table, message: target.message })
  }
}

const crossRules = z.superRefine(
  (v: Record<string, unknown>, ctx) => {
    const streaming = isRecord(v['streamingConfigJson']) ? v['streamingConfigJson'] : undefined
    if (v['mode'] === 'streaming' && v['streamingConfigJson'] === undefined) {
      ctx.addIssue({ code: 'custom', path: ['streamingConfigJson'], input: undefined, message: 'required when mode is streaming: { "checkpointLocation": ..., "queryName": ... }' })
    }
    const steps = Array.isArray(v['transform']) ? v['transform'] : []
    const aggregates = steps.some((s) => isRecord(s) && s['type'] === 'aggregate')
    aggregateRules(steps, streaming, isRecord(v['load']) ? v['load'] : undefined, ctx)
    deduplicateRules(steps, streaming, ctx)
    routingRules(v, steps, ctx)
    if (isRecord(v['extract'])) debeziumRules(v['extract'], isRecord(v['load']) ? v['load'] : undefined, aggregates, ctx)
    if (streaming?.['outputMode'] === 'complete' && !aggregates) {
      ctx.addIssue({
        code: 'custom',
        path: ['streamingConfigJson', 'outputMode'],
        input: 'complete',
        message: 'outputMode complete needs an aggregate transform step (complete rewrites the whole aggregate result); use append or update',
      })
    }
    const late = isRecord(streaming?.['lateDataConfig']) ? streaming['lateDataConfig'] : undefined
    const errorHandling = isRecord(v['errorHandlingConfig']) ? v['errorHandlingConfig'] : undefined
    // Without any Kafka, dlqTopic names a table (runtime/routes.ts): it must be a table name then.
    const dlqConfig = isRecord(errorHandling?.['dlqConfig']) ? errorHandling['dlqConfig'] : undefined
    const kafkaKnown = (isRecord(v['extract']) && v['extract']['sourceType'] === 'kafka') || (typeof dlqConfig?.['dlqType'] === 'string' && dlqConfig['dlqType'].toLowerCase() === 'kafka')
    const lateTable = typeof late?.['dlqTopic'] === 'string' && !kafkaKnown ? parseQualified(late['dlqTopic']) : undefined
    if (lateTable !== undefined && 'error' in lateTable) {
      ctx.addIssue({ code: 'custom', path: ['streamingConfigJson', 'lateDataConfig', 'dlqTopic'], input: late?.['dlqTopic'], message: `a table here (the pipeline has no Kafka): table name ${lateTable.error}` })
    }
    if (late?.['strategy'] === 'sendtodlq' && late['dlqTopic'] === undefined && errorHandling?.['dlqConfig'] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['streamingConfigJson', 'lateDataConfig', 'strategy'],
        input: 'sendtodlq',
        message: 'strategy sendtodlq needs a DLQ: set lateDataConfig.dlqTopic or errorHandlingConfig.dlqConfig',
      })
    }
  },
  { when: () => true },
)

export const pipelineSchema = strictObject(
  {
    $schema: z.string().describe('Editor hint: URL or path of this JSON Schema (ignored).').optional(),
    pipelineId: z
      .string({ error: 'must be a string of letters, digits, ".", "_" or "-"' })
      .regex(pipelineIdPattern, { error: 'must be 1-255 letters, digits, ".", "_" or "-" (it is batch_tracker.pipeline_id)' })
      .describe('Stable id of the pipeline; batch_tracker.pipeline_id. Changing it starts from scratch.'),
    name: text('Human-readable name.').optional(),
    mode: lenientEnum(['batch', 'streaming'], '"batch" (default) processes what is available then exits; "streaming" runs until stopped.').default('batch'),
    extract: extractSchema,
    transform: transformSchema,
    load: postgresLoadSchema,
    streamingConfigJson: streamingConfigSchema.optional(),
    errorHandlingConfig: errorHandlingConfigSchema.default({
      retryConfig: { strategy: 'exponential', maxAttempts: 3, initialDelaySeconds: 1, maxDelaySeconds: 60 },
      circuitBreakerConfig: { enabled: true, failureThreshold: 5, resetTimeoutSeconds: 60 },
      failFast: false,
    }),
    schemaDir: text('Folder of record/table schemas named by schemaName (relative to the pipeline file).').optional(),
    monitoring: monitoringConfigSchema.default({ httpHost: '127.0.0.1', shutdownTimeoutSeconds: 30 }),
  },
  'A Sluice pipeline: extract -> transform -> load.',
)
  .check(crossRules)
  .transform((v): PipelineConfig => {
    const { $schema: _ignored, ...config } = v
    return config
  })
