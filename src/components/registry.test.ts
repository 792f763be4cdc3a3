import { test } from 'node:test'
import assert from 'node:assert/strict'
import { extractSchema, parsePipeline } from '../config/index.ts'
import { sourceFor, sourceList, sources } from './registry.ts'

test('the root schema takes its extract union from the registry list, in its order', () => {
  assert.deepEqual(
    extractSchema.options,
    sourceList.map((s) => s.schema),
  )
  assert.deepEqual(Object.keys(sources), ['kafka', 'file', 'generator'])
  for (const s of sourceList) assert.equal(sources[s.type], s)
})

test('an unknown sourceType is refused naming every registered source', () => {
  const r = parsePipeline({ pipelineId: 'p', extract: { sourceType: 'nope' }, load: { sinkType: 'postgresql', table: 't', connectionParams: { host: 'h', database: 'd' } } })
  assert.equal(r.ok, false)
  const issue = r.ok ? undefined : r.issues.find((i) => i.path === 'extract.sourceType')
  assert.match(issue?.message ?? '', /sourceType must be one of "kafka", "file", "generator"/)
})

test('what validate and assemble need comes from the definition: summary line, read limits, metadata kind', () => {
  const r = parsePipeline({
    pipelineId: 'p',
    extract: { sourceType: 'kafka', connectionParams: { 'kafka.bootstrap.servers': 'b:9092', subscribe: 't', maxOffsetsPerTrigger: '10', maxBytesPerTrigger: '1 KiB' } },
    load: { sinkType: 'postgresql', table: 't', connectionParams: { host: 'h', database: 'd' } },
  })
  assert.ok(r.ok, JSON.stringify(r.ok ? null : r.issues))
  const e = r.config.extract
  assert.ok(e.sourceType === 'kafka')
  const def = sourceFor(e)
  assert.equal(def, sources.kafka)
  assert.deepEqual(def.readLimits(e), { maxRecords: 10, maxBytes: 1024 })
  assert.equal(def.describe(e), 'kafka topics t from b:9092 (PLAINTEXT), startingOffsets latest')
  assert.equal(def.metadata, 'kafka')
  const file = parsePipeline({ pipelineId: 'p', extract: { sourceType: 'file', path: 'in' }, load: { sinkType: 'postgresql', table: 't', connectionParams: { host: 'h', database: 'd' } } })
  assert.ok(file.ok && file.config.extract.sourceType === 'file')
  assert.deepEqual(sourceFor(file.config.extract).readLimits(file.config.extract), {})
  assert.equal(sourceFor(file.config.extract).metadata, 'file')
})
