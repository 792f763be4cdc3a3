/** docs/config.md is generated from the schemas (npx node scripts/gen-config-docs.ts) and kept in sync. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { renderConfigDocs } from '../../scripts/gen-config-docs.ts'

test('docs/config.md is in sync with the schemas (regenerate: npx node scripts/gen-config-docs.ts)', async () => {
  const shipped = await readFile(new URL('../../docs/config.md', import.meta.url), 'utf8')
  assert.equal(shipped, renderConfigDocs())
})

test('the reference lists every section', () => {
  const doc = renderConfigDocs()
  for (const needle of ['`streamingConfigJson.triggerMode`', '`extract` with sourceType: "kafka"', '`extract` with sourceType: "file"', '`extract` with sourceType: "generator"', '`transform[]` with type: "aggregate"', '`load.upsertKeys`', '`errorHandlingConfig.dlqConfig.dlqType`', '## Credentials']) {
    assert.ok(doc.includes(needle), needle)
  }
})
