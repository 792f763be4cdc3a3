/**
 * The root schema of a pipeline file, assembled from the component schemas, with the rules that
 * span several sections (a streaming pipeline needs streamingConfigJson, complete output needs an
 * aggregation, a DLQ strategy needs a DLQ).
 */
import * as z from 'zod'
import { fileExtractSchema } from '../components/sources/file/config.ts'
import { generatorExtractSchema } from '../components/sources/generator/config.ts'
import { kafkaExtractSchema } from '../components/sources/kafka/config.ts'
import { postgresLoadSchema } from '../components/sinks/postgres/config.ts'
import { transformSchema } from '../components/transforms/config.ts'
import { errorHandlingConfigSchema } from './error-handling.ts'
import { lenientEnum, strictObject, text } from './lenient.ts'
import { monitoringConfigSchema } from './monitoring.ts'
import { streamingConfigSchema } from './streaming.ts'
import type { PipelineConfig } from './types.ts'

export const extractSchema = z
  .discriminatedUnion('sourceType', [kafkaExtractSchema, fileExtractSchema, generatorExtractSchema], {
    error: (iss) => (iss.code === 'invalid_union' ? 'sourceType must be one of "kafka", "file", "generator"' : undefined),
  })
  .describe('Where records come from; sourceType selects the source.')

const pipelineIdPattern = /^[A-Za-z0-9._-]{1,255}$/

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const crossRules = z.superRefine(
  (v: Record<string, unknown>, ctx) => {
    const streaming = isRecord(v['streamingConfigJson']) ? v['streamingConfigJson'] : undefined
    if (v['mode'] === 'streaming' && v['streamingConfigJson'] === undefined) {
      ctx.addIssue({ code: 'custom', path: ['streamingConfigJson'], input: undefined, message: 'required when mode is streaming: { "checkpointLocation": ..., "queryName": ... }' })
    }
    const steps = Array.isArray(v['transform']) ? v['transform'] : []
    const aggregates = steps.some((s) => isRecord(s) && s['type'] === 'aggregate')
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
