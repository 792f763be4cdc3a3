/** No hidden settings: __proto__, constructor and prototype keys are refused wherever they are. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { kafkaPipeline } from './fixtures.testkit.ts'
import { parsePipeline } from './parse.ts'

/** The pipeline text with `extra` spliced into the object at `section` (JSON text, so __proto__ stays a key). */
function withKey(section: 'streamingConfigJson' | 'load' | 'root', extra: string): unknown {
  const text = JSON.stringify(kafkaPipeline())
  if (section === 'root') return JSON.parse(text.replace(/^\{/, `{${extra},`))
  return JSON.parse(text.replace(`"${section}":{`, `"${section}":{${extra},`))
}

test('streamingConfigJson.__proto__ cannot turn exactly-once off: it is an unknown key', () => {
  const input = withKey('streamingConfigJson', '"__proto__":{"enableIdempotence":false}')
  for (const env of [undefined, {}]) {
    const r = parsePipeline(input, env === undefined ? {} : { env })
    assert.equal(r.ok, false, 'refused')
    if (r.ok) continue
    assert.deepEqual(r.issues.map((i) => i.path), ['streamingConfigJson.__proto__'])
    assert.match(r.issues[0]?.message ?? '', /unknown key "__proto__"/)
    assert.equal(r.issues[0]?.value, undefined, 'no value echoed')
  }
  const plain = parsePipeline(kafkaPipeline(), { env: {} })
  assert.ok(plain.ok && plain.config.streamingConfigJson?.enableIdempotence === true)
})

test('constructor and prototype keys anywhere are unknown keys, with every other problem reported too', () => {
  const text = JSON.stringify({
    ...kafkaPipeline(),
    transform: [{ type: 'rename', mapping: { a: 'b', prototype: 'x' } }],
  })
    .replace('"load":{', '"load":{"constructor":{"prototype":{"writeMode":"upsert"}},')
    .replace('"connectionParams":{"kafka.bootstrap.servers"', '"connectionParams":{"__proto__":{"failOnDataLoss":false},"kafka.bootstrap.servers"')
    .replace('"mode":"streaming"', '"mode":"sometimes"')
  const r = parsePipeline(JSON.parse(text), { env: {} })
  assert.equal(r.ok, false)
  if (r.ok) return
  assert.deepEqual(r.issues.map((i) => i.path).sort(), ['extract.connectionParams.__proto__', 'load.constructor', 'mode', 'transform[0].mapping.prototype'])
})
