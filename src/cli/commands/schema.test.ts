/** `sluice schema` prints the shipped JSON Schema. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Command } from 'commander'
import { registerSchema, schemaText } from './schema.ts'

test('prints the JSON Schema', async () => {
  const program = new Command('sluice').exitOverride()
  const writes: string[] = []
  registerSchema(program, (t) => writes.push(t))
  await program.parseAsync(['node', 'sluice', 'schema'])
  assert.equal(writes.join(''), schemaText())
  const schema = JSON.parse(writes.join('')) as { $schema: string; title: string }
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
  assert.equal(schema.title, 'Sluice pipeline')
})
