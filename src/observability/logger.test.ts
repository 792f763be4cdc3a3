import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLogger, formatPretty } from './logger.ts'
import type { Logger } from '../api/component.ts'
import { isSluiceError } from '../errors.ts'

/** Collects written lines. */
function capture(): { lines: string[]; write(line: string): void } {
  const lines: string[] = []
  return { lines, write: (line: string) => void lines.push(line) }
}

const SECRET = 'hunter2-S3cr3t'

test('JSON lines with level, time, message and bindings; assignable to Logger', () => {
  const out = capture()
  const logger: Logger = createLogger({ pretty: false, destination: out, env: {} })
  logger.child({ pipelineId: 'p1', batchId: 7 }).info({ records: 3 }, 'batch committed')
  logger.debug({}, 'hidden at info')
  assert.equal(out.lines.length, 1)
  const entry = JSON.parse(out.lines[0] ?? '') as Record<string, unknown>
  assert.equal(entry.level, 30)
  assert.equal(entry.msg, 'batch committed')
  assert.equal(entry.pipelineId, 'p1')
  assert.equal(entry.batchId, 7)
  assert.equal(entry.records, 3)
  assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT/)
})

test('level comes from options, then SLUICE_LOG_LEVEL; unknown levels are config errors', () => {
  const out = capture()
  createLogger({ pretty: false, destination: out, env: { SLUICE_LOG_LEVEL: 'debug' } }).debug({}, 'shown')
  createLogger({ level: 'warn', pretty: false, destination: out, env: { SLUICE_LOG_LEVEL: 'debug' } }).info({}, 'not shown')
  assert.equal(out.lines.length, 1)
  assert.throws(() => createLogger({ level: 'verbose', destination: out }), (e: unknown) => isSluiceError(e, 'CONFIG_INVALID'))
})

test('a password never appears in the output, whatever shape it comes in', () => {
  for (const pretty of [false, true]) {
    const out = capture()
    const logger = createLogger({ pretty, destination: out, env: {}, level: 'debug' })
    logger.info({ password: SECRET }, 'top-level key')
    logger.info({ load: { connectionParams: { host: 'db', password: SECRET } } }, 'nested config')
    logger.info({ a: { b: { c: { d: { dbPassword: SECRET } } } } }, 'deep key')
    logger.info({ sasl: { mechanism: 'plain', username: 'u', password: SECRET } }, 'sasl block')
    logger.info({ url: `postgres://etl:${SECRET}@db:5432/app` }, 'url field')
    logger.warn({}, `could not connect to postgres://etl:${SECRET}@db:5432/app`)
    logger.error({ err: new Error(`connect failed: password=${SECRET}`) }, 'error object')
    logger.child({ dsn: `postgresql://etl:${SECRET}@db/app` }).info({}, 'child binding')
    logger.info({ list: [{ password: SECRET }] }, 'array')
    assert.equal(out.lines.length, 9)
    const all = out.lines.join('')
    assert.ok(!all.includes(SECRET), `secret leaked (pretty=${pretty}):\n${all}`)
    if (!pretty) for (const line of out.lines) JSON.parse(line)
    assert.ok(all.includes('postgres://etl:***@db:5432/app'), 'URL kept, password masked')
    assert.ok(all.includes('"host":"db"'), 'non-secret fields are kept')
  }
})

test('pretty lines are compact and readable', () => {
  const line = JSON.stringify({ level: 40, time: '2026-11-25T12:34:56.789Z', pid: 1, hostname: 'h', msg: 'slow batch', pipelineId: 'p1', batchId: 3, note: 'two words' })
  assert.equal(formatPretty(line), '12:34:56.789 WARN  slow batch pipelineId=p1 batchId=3 note="two words"\n')
  const colored = formatPretty(line, true)
  assert.ok(colored.includes('\u001b[33m'), 'warn is yellow')
  assert.equal(formatPretty('not json'), 'not json\n')
  const withErr = formatPretty(JSON.stringify({ level: 50, time: '2026-11-25T12:34:56.789Z', msg: 'x', err: { code: 'E1', stack: 'Error: x\n  at y' } }))
  assert.ok(withErr.includes('code=E1'))
  assert.ok(withErr.includes('\n    Error: x\n      at y'))
})

test('redaction never masks the ordinary words of a message, and catches misspelled secret keys', () => {
  const out = capture()
  const logger = createLogger({ pretty: false, destination: out, env: {} })
  logger.error({ code: 'SOURCE_UNAVAILABLE', err: 'SASL: authentication failed for user "etl"' }, 'query failed')
  logger.warn({}, 'token: expected a number; secret: none configured')
  logger.info({ connectionParams: { host: 'db', pasword: SECRET }, 'kafka.sasl.pasword': SECRET }, 'typo keys')
  const [a, b, c] = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(a?.err, 'SASL: authentication failed for user "etl"')
  assert.equal(b?.msg, 'token: expected a number; secret: none configured')
  assert.ok(!out.lines.join('').includes(SECRET))
  assert.deepEqual(c?.connectionParams, { host: 'db', pasword: '***' })
})
