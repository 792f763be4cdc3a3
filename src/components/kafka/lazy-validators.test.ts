import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { lazyValidator } from './lazy-validators.ts'

const moduleUrl = new URL('./lazy-validators.ts', import.meta.url).href
/** Source of a check for the `deferred` mark, without importing the module (which installs it). */
const isDeferredSource = `const isDeferred = (v) => typeof v === 'function' && Object.getOwnPropertySymbols(v).some((s) => s.description === 'sluice.deferredValidator')`

/** Runs `code` (an ES module body) in a fresh node, whose stdout is one JSON line. */
function fresh(code: string): unknown {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), encoding: 'utf8' })
  return JSON.parse(out)
}

test('a deferred validator compiles once, on its first call, and reports the same errors', () => {
  let compiles = 0
  const compile = (schema: object) => {
    compiles++
    const v = (data: unknown): boolean => {
      v.errors = typeof data === 'number' ? null : [{ schema, message: 'must be number' }]
      return typeof data === 'number'
    }
    v.errors = undefined as unknown
    return v
  }
  const schema = { type: 'number' }
  const validate = lazyValidator(compile, schema)
  assert.equal(compiles, 0, 'nothing compiled until it is used')
  assert.equal(validate(1), true)
  assert.equal(validate.errors, null)
  assert.equal(validate('x'), false)
  assert.deepEqual(validate.errors, [{ schema, message: 'must be number' }])
  assert.equal(compiles, 1, 'compiled once')
})

/** The client's error for a Consumer with an invalid option, with or without the patch loaded first. */
function refusal(patched: boolean): { patched: boolean; message: string; sample: boolean; grown: number } {
  return fresh(`
    ${isDeferredSource}
    ${patched ? `import ${JSON.stringify(moduleUrl)}` : ''}
    const kafka = await import('@platformatic/kafka')
    const utils = await import(new URL('./utils.js', import.meta.resolve('@platformatic/kafka')).href)
    const patched = kafka.ajv === utils.ajv && utils.ajv.compile.toString().includes('lazyValidator')
    let message = ''
    try { new kafka.Consumer({ clientId: 'c', groupId: 'g', bootstrapBrokers: ['127.0.0.1:1'], sessionTimeout: -5 }) } catch (e) { message = e.message }
    ${patched ? `const { deferredValidators } = await import(${JSON.stringify(moduleUrl)}); const before = deferredValidators().length` : 'const before = 0'}
    const consumer = new kafka.Consumer({ clientId: 'c', groupId: 'g', bootstrapBrokers: ['127.0.0.1:1'] })
    const producer = new kafka.Producer({ clientId: 'p', bootstrapBrokers: ['127.0.0.1:1'] })
    const admin = new kafka.Admin({ clientId: 'a', bootstrapBrokers: ['127.0.0.1:1'] })
    await Promise.all([consumer.close(), producer.close(), admin.close()])
    ${patched ? 'const grown = deferredValidators().length - before' : 'const grown = 0'}
    console.log(JSON.stringify({ patched, message, sample: isDeferred(kafka.consumerOptionsValidator), grown }))
  `) as { patched: boolean; message: string; sample: boolean; grown: number }
}

test('loaded first, the Kafka client compiles no schema at import and still refuses bad options, with the same message', () => {
  const result = refusal(true)
  assert.equal(result.patched, true, 'the client shares the patched Ajv instance')
  // The client exports its validators: they must be the deferred kind (else the patch came too late).
  assert.equal(result.sample, true)
  assert.match(result.message, /sessionTimeout must be >= 0/, 'a bad option is still refused by the client')
  assert.equal(result.grown, 0, 'the client compiles nothing after it has loaded (no list growing per call)')
  const unpatched = refusal(false)
  assert.equal(unpatched.patched, false)
  assert.equal(unpatched.sample, false)
  assert.equal(result.message, unpatched.message)
})

test('src/cli/main.ts loads it before the client', () => {
  const result = fresh(`
    ${isDeferredSource}
    await import(${JSON.stringify(new URL('../../cli/main.ts', import.meta.url).href)})
    const kafka = await import('@platformatic/kafka')
    console.log(JSON.stringify({ sample: isDeferred(kafka.consumerOptionsValidator) }))
  `) as { sample: boolean }
  assert.equal(result.sample, true)
})

test('every schema the client compiles is valid against the meta-schema and compiles (what loading it used to check)', () => {
  const result = fresh(`
    import { deferredValidators } from ${JSON.stringify(moduleUrl)}
    const kafka = await import('@platformatic/kafka')
    const all = deferredValidators()
    const invalid = all.filter(({ schema }) => !kafka.ajv.validateSchema(schema))
    // Each first call compiles (strict mode included); a schema that does not compile throws here.
    const compiled = all.filter(({ validate }) => typeof validate({}) === 'boolean').length
    console.log(JSON.stringify({ count: all.length, invalid: invalid.length, errors: kafka.ajv.errors ?? null, compiled }))
  `) as { count: number; invalid: number; errors: unknown; compiled: number }
  assert.ok(result.count >= 30, `the client's option schemas were deferred (${result.count})`)
  assert.equal(result.invalid, 0, JSON.stringify(result.errors))
  assert.equal(result.compiled, result.count)
})
