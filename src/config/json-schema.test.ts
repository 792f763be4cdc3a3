/** The JSON Schema: generated from the zod schemas, shipped in sync, accepts the examples, rejects bad files. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { schemaText } from '../cli/commands/schema.ts'
import { generateConfig } from './gen-config.testkit.ts'
import { pipelineJsonSchema } from './json-schema.ts'
import { kafkaPipeline, setAt } from './fixtures.testkit.ts'

const root = new URL('../../', import.meta.url)

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: false })
  return ajv.compile(pipelineJsonSchema())
}

test('schema/pipeline.schema.json is in sync with the zod schemas (regenerate: npx node src/cli/main.ts schema -o schema/pipeline.schema.json)', async () => {
  const shipped = await readFile(new URL('schema/pipeline.schema.json', root), 'utf8')
  assert.equal(shipped, schemaText())
})

test('the schema is draft 2020-12 with descriptions and canonical enums', () => {
  const s = pipelineJsonSchema() as { $schema: string; properties: Record<string, { description?: string }> }
  assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema')
  assert.ok(s.properties['pipelineId']?.description)
  assert.match(schemaText(), /"enum": \[\s*"append",\s*"update",\s*"complete"\s*\]/)
})

test('the examples validate against the schema', async () => {
  const validate = validator()
  for (const file of ['examples/streaming-example.json', 'examples/production-exactly-once.json']) {
    const json: unknown = JSON.parse(await readFile(new URL(file, root), 'utf8'))
    assert.ok(validate(json), `${file}: ${JSON.stringify(validate.errors, null, 1)}`)
  }
})

test('generated (lenient) configs validate against the schema', () => {
  const validate = validator()
  for (let seed = 1; seed <= 200; seed++) {
    const raw = generateConfig(seed)
    assert.ok(validate(raw), `seed ${seed}: ${JSON.stringify(validate.errors, null, 1)}\n${JSON.stringify(raw)}`)
  }
})

test('the schema rejects bad files', () => {
  const validate = validator()
  const bad = [
    setAt(kafkaPipeline(), 'streamingConfigJson.outputMode', 'replace'),
    setAt(kafkaPipeline(), 'streamingConfigJson.triggerMode', 'every 5s'),
    setAt(kafkaPipeline(), 'extrct', {}),
    setAt(kafkaPipeline(), 'extract.connectionParams.subscibe', 'x'),
    setAt(kafkaPipeline(), 'load.connectionParams.port', 'abc'),
    setAt(kafkaPipeline(), 'extract.sourceType', 'kinesis'),
    setAt(kafkaPipeline(), 'pipelineId', undefined),
  ]
  for (const b of bad) assert.equal(validate(b), false, JSON.stringify(b))
})
