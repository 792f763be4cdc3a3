/**
 * The first N records of a pipeline's configured source, for `sluice test` without `--input`. It
 * plans and reads like a batch does, but only that: it never calls `committed` (no consumer-group
 * offsets, no cleanSource), never opens the sink database, writes no checkpoint and no dead letter.
 * A Kafka source is read from its earliest offsets whatever `startingOffsets` says ("latest"
 * would show nothing); the file source reads its folder's files in order, the generator its seed.
 */
import { basename } from 'node:path'
import type { ComponentContext } from '../api/component.ts'
import { nullLogger } from '../api/component.ts'
import { advance } from '../api/position.ts'
import type { SourceRecord } from '../api/record.ts'
import { sourceFor } from '../components/registry.ts'
import type { PipelineConfig } from '../config/index.ts'

/** The extract config a sample reads: a Kafka source from its earliest offsets. */
export function sampleExtract(config: PipelineConfig): PipelineConfig['extract'] {
  const e = config.extract
  if (e.sourceType !== 'kafka') return e
  return { ...e, connectionParams: { ...e.connectionParams, startingOffsets: 'earliest' } }
}

/** Reads up to `limit` records from the source; fewer when it has fewer. */
export async function sampleSource(config: PipelineConfig, baseDir: string, limit: number, env: Readonly<Record<string, string | undefined>>, signal: AbortSignal): Promise<SourceRecord[]> {
  const ctx: ComponentContext = { pipelineId: config.pipelineId, baseDir, logger: nullLogger, env }
  const extract = sampleExtract(config)
  const source = sourceFor(extract).create(extract, ctx)
  const records: SourceRecord[] = []
  try {
    await source.open(signal)
    let position = await source.initialPosition(signal)
    while (records.length < limit) {
      const end = await source.plan(position, { maxRecords: limit - records.length }, signal)
      if (end === null) break
      for await (const chunk of source.read(position, end, signal)) {
        records.push(...chunk.slice(0, limit - records.length))
        if (records.length >= limit) break
      }
      position = advance(position, end)
    }
  } finally {
    await source.close().catch(() => {})
  }
  return records
}

/** The topic name sample records from an input file carry: the pipeline's topic, or the file's name. */
export function inputTopic(config: PipelineConfig, inputFile: string): string {
  const e = config.extract
  if (e.sourceType === 'kafka') {
    const topic = e.topic ?? e.connectionParams.subscribe?.split(',')[0]?.trim()
    if (topic) return topic
  }
  // Generated records name their topic after the source kind (generator-source.ts).
  if (sourceFor(e).metadata === 'generator') return 'generator'
  return basename(inputFile)
}
