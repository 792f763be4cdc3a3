/**
 * Canonical JSON of a parsed config: canonical spellings, durations as "5 seconds", triggers as
 * "processingtime=5 seconds", every default written out, secrets redacted unless asked not to.
 * fromJson(toJson(c, { redactSecrets: false })) deep-equals c.
 */
import { formatDuration } from './duration.ts'
import { redactSecrets as redact } from '../secrets.ts'
import { formatTrigger } from './trigger.ts'
import type { PipelineConfig, StreamingConfig, TransformStep } from './types.ts'

export interface ToJsonOptions {
  /** Replace passwords and other secrets with *** (default true). */
  redactSecrets?: boolean
}

type Json = Record<string, unknown>

function streamingToJson(s: StreamingConfig): Json {
  return {
    ...s,
    triggerMode: formatTrigger(s.triggerMode),
    ...(s.watermark
      ? {
          watermark: {
            ...s.watermark,
            delayThreshold: formatDuration(s.watermark.delayThreshold),
            ...(s.watermark.idleTimeout === undefined ? {} : { idleTimeout: formatDuration(s.watermark.idleTimeout) }),
          },
        }
      : {}),
    ...(s.stateTimeout !== undefined ? { stateTimeout: formatDuration(s.stateTimeout) } : {}),
  }
}

function stepToJson(step: TransformStep): Json {
  if (step.type === 'aggregate' && step.window) return { ...step, window: { ...step.window, duration: formatDuration(step.window.duration) } }
  if (step.type === 'deduplicate' && step.stateTimeout !== undefined) return { ...step, stateTimeout: formatDuration(step.stateTimeout) }
  return { ...step }
}

/** Removes undefined members so the output is plain JSON data. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact)
  if (typeof value === 'object' && value !== null) {
    const out: Json = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = compact(v)
    return out
  }
  return value
}

/** The config as a canonical, JSON-ready object (secrets redacted by default). */
export function toJson(config: PipelineConfig, options: ToJsonOptions = {}): Json {
  const out: Json = {
    pipelineId: config.pipelineId,
    name: config.name,
    mode: config.mode,
    extract: config.extract,
    transform: config.transform.map(stepToJson),
    load: config.load,
    streamingConfigJson: config.streamingConfigJson ? streamingToJson(config.streamingConfigJson) : undefined,
    errorHandlingConfig: config.errorHandlingConfig,
    schemaDir: config.schemaDir,
    monitoring: config.monitoring,
  }
  const json = compact(out) as Json
  return options.redactSecrets === false ? structuredClone(json) : redact(json)
}
