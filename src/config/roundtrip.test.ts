/** Round-trip property: fromJson(toJson(c)) equals c for the examples and for generated configs. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { generateConfig } from './gen-config.testkit.ts'
import { loadPipelineFile } from './load.ts'
import { fromJson, parsePipeline } from './parse.ts'
import { toJson } from './to-json.ts'
import type { PipelineConfig } from './types.ts'

const examples = ['examples/streaming-example.json', 'examples/production-exactly-once.json']
const root = new URL('../../', import.meta.url)

function assertRoundTrip(c: PipelineConfig, label: string) {
  const json = toJson(c, { redactSecrets: false })
  // Through text too: toJson must be plain JSON data.
  const again = fromJson(JSON.parse(JSON.stringify(json)))
  assert.deepStrictEqual(again, c, label)
  assert.deepStrictEqual(toJson(again, { redactSecrets: false }), json, `${label}: toJson is canonical`)
}

test('examples round-trip', async () => {
  for (const file of examples) {
    const { config } = await loadPipelineFile(new URL(file, root).pathname, { env: {} })
    assertRoundTrip(config, file)
  }
})

test('generated configs are valid and round-trip (500 seeds)', () => {
  for (let seed = 1; seed <= 500; seed++) {
    const raw = generateConfig(seed)
    const r = parsePipeline(raw)
    if (!r.ok) assert.fail(`seed ${seed}: ${JSON.stringify(r.issues)}\n${JSON.stringify(raw)}`)
    assertRoundTrip(r.config, `seed ${seed}`)
  }
})

test('toJson redacts secrets by default and keeps them on request', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const r = parsePipeline(generateConfig(seed))
    assert.ok(r.ok)
    if (!r.ok) continue
    const text = JSON.stringify(toJson(r.config))
    assert.ok(!/"password":"secret"|:pw\d@|PlainLoginModule/.test(text), `seed ${seed} leaked a secret: ${text}`)
  }
  const c = fromJson({
    pipelineId: 'p',
    extract: { sourceType: 'kafka', topic: 't', connectionParams: { 'kafka.bootstrap.servers': 'k:1', 'kafka.sasl.jaas.config': 'jaas secret' } },
    load: { sinkType: 'pg', table: 't', connectionParams: { url: 'postgres://u:hunter2@h/db' } },
  })
  const redacted = toJson(c)
  assert.match(JSON.stringify(redacted), /postgres:\/\/u:\*\*\*@h\/db/)
  assert.match(JSON.stringify(redacted), /"kafka.sasl.jaas.config":"\*\*\*"/)
  assert.match(JSON.stringify(toJson(c, { redactSecrets: false })), /hunter2/)
})

test('toJson writes canonical spellings', async () => {
  const raw = JSON.parse(await readFile(new URL(examples[1] ?? '', root), 'utf8')) as Record<string, unknown>
  const c = fromJson(raw, { env: {} })
  const json = toJson(c) as { streamingConfigJson: Record<string, unknown>; load: { connectionParams: Record<string, unknown> } }
  assert.equal(json.streamingConfigJson['triggerMode'], 'processingtime=30 seconds')
  assert.deepEqual(json.streamingConfigJson['watermark'], { eventTimeColumn: 'event_timestamp', delayThreshold: '1 hour' })
  assert.equal(json.load.connectionParams['port'], 5432)
})
