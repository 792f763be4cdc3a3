/** Zod schema of `streamingConfigJson`: the seed's StreamingConfig with its defaults. */
import * as z from 'zod'
import { tableName } from '../components/sinks/postgres/config.ts'
import { always, byteSize, duration, fieldPathText, lenientBool, lenientEnum, lenientInt, strictObject, text } from './lenient.ts'
import { triggerModeSchema } from './trigger.ts'

/** outputMode: append (default), update, complete (complete needs an aggregate transform step). */
export const outputModeSchema = lenientEnum(
  ['append', 'update', 'complete'],
  'Which rows a batch writes: "append" new rows only (default; not with an aggregate step), "update" the changed aggregate rows, "complete" the whole aggregate result (needs an aggregate step). With an aggregate step, update and complete both keep the current result in the table, merged per batch.',
)

export const watermarkSchema = strictObject(
  {
    eventTimeColumn: fieldPathText('Column (record field) holding the event time.'),
    delayThreshold: duration('How late an event may arrive, e.g. "10 minutes"; the watermark is max(event time) minus this.'),
    perPartition: lenientBool(
      'Per-partition watermarks (Flink\'s rule): the pipeline\'s watermark is the smallest of the partitions\' max(event time), over the partitions with event times that are not idle, minus delayThreshold; so a slow partition or a worker that joins late never makes another partition\'s on-time records late. Default: on when workers share the pipeline (a consumer group or assign), off otherwise (Spark\'s rule: one max(event time) over all partitions).',
    ).optional(),
    idleTimeout: duration('With per-partition watermarks: a partition whose position has not moved for this long is idle and does not hold the watermark back, e.g. "1 minute" (the default).', { positive: true }).optional(),
  },
  'Event-time watermark, as Spark withWatermark(eventTimeColumn, delayThreshold).',
)

export const lateDataStrategySchema = lenientEnum(
  ['drop', 'loganddrop', 'sendtodlq', 'separatestream'],
  'What happens to records older than the watermark: "drop", "loganddrop", "sendtodlq" (needs dlqTopic or errorHandlingConfig.dlqConfig), "separatestream" (needs separateTable, separateTopic or dlqTopic; the first given of these three is used).',
  { logdrop: 'loganddrop', dlq: 'sendtodlq', separate: 'separatestream' },
)

export const lateDataConfigSchema = strictObject(
  {
    strategy: lateDataStrategySchema,
    dlqTopic: text('Kafka topic for late records (strategy sendtodlq, or separatestream as in the seed); on the Kafka DLQ\'s cluster, else the Kafka source\'s; a table of that name when the pipeline has no Kafka.').optional(),
    separateTable: tableName('Table for late records (strategy separatestream).').optional(),
    separateTopic: text('Kafka topic for late records (strategy separatestream).').optional(),
  },
  'Handling of records that arrive behind the watermark.',
).check(
  z.superRefine((v, ctx) => {
    if (v.strategy === 'separatestream' && v.separateTable === undefined && v.separateTopic === undefined && v.dlqTopic === undefined) {
      ctx.addIssue({ code: 'custom', path: ['strategy'], input: v.strategy, message: 'strategy separatestream needs separateTable, separateTopic or dlqTopic' })
    }
  }, always),
)

export const streamingConfigSchema = strictObject(
  {
    checkpointLocation: text('Folder for the write-ahead log of planned batches (relative to the pipeline file).'),
    queryName: text('Name of the streaming query (logs, metrics).'),
    outputMode: outputModeSchema.default('append'),
    triggerMode: triggerModeSchema.default({ type: 'continuous' }),
    watermark: watermarkSchema.optional(),
    lateDataConfig: lateDataConfigSchema.optional(),
    enableIdempotence: lenientBool('Exactly-once writes through the batch tracker (default true); false runs at-least-once.').default(true),
    maxRecordsPerTrigger: lenientInt({ min: 1 }, 'Upper bound of records in one micro-batch.').optional(),
    maxFilesPerTrigger: lenientInt({ min: 1 }, 'Upper bound of files in one micro-batch (file source).').optional(),
    maxBytesPerTrigger: byteSize(
      'Upper bound of the bytes of one micro-batch, e.g. "64 MiB" or a number of bytes (units are powers of 1024): file sizes for the file source (at least one file per batch), key+value+header bytes for Kafka (connectionParams.maxBytesPerTrigger takes precedence); the generator ignores it. Default 16 MiB.',
    ).optional(),
    stateTimeout: duration('How long aggregation state without new events is kept, e.g. "1 hour".', { positive: true }).optional(),
  },
  'Streaming settings (the seed StreamingConfig); required when mode is streaming.',
).check(
  z.superRefine((v, ctx) => {
    if (v.lateDataConfig !== undefined && v.watermark === undefined) {
      ctx.addIssue({ code: 'custom', path: ['lateDataConfig'], input: v.lateDataConfig, message: 'lateDataConfig needs a watermark: late means behind the watermark' })
    }
  }, always),
)
