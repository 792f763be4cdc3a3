import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesHaveLongDigitRun, doubleIsExact, exactNumber, hasLongDigitRun, isExactNumber, parseJson, parseJsonBytes, sameDecimal } from './exact-number.ts'

const EXAMPLE = '{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567890}'

test('numbers a double would change stay exact; JSON.stringify writes them back as written', () => {
  const v = parseJson(EXAMPLE) as Record<string, unknown>
  assert.ok(isExactNumber(v.id) && isExactNumber(v.amount))
  assert.equal(v.id.rawJSON, '9007199254740993')
  assert.equal(v.amount.rawJSON, '12345678901234567890.12345678901234567890')
  assert.equal(JSON.stringify(v), '{"id":9007199254740993,"amount":12345678901234567890.12345678901234567890}')
  // What JSON.parse does to the same text (the bug this replaces).
  assert.deepEqual(JSON.parse(EXAMPLE), { id: 9007199254740992, amount: 12345678901234567000 })
})

test('numbers a double holds exactly stay plain numbers, also on the lossless path', () => {
  // The 16-digit string sends this text through the reviver; only the inexact number changes.
  const v = parseJson('{"s":"1234567890123456","a":1.5,"b":-0,"c":1.50,"d":1e3,"e":[9007199254740993,2],"f":{"g":0.1000000000000000055511,"h":123456789012345}}') as Record<string, unknown>
  assert.equal(v.s, '1234567890123456')
  assert.equal(v.a, 1.5)
  assert.equal(v.c, 1.5)
  assert.equal(v.d, 1000)
  assert.equal(Object.is(v.b, -0), true)
  const e = v.e as unknown[]
  assert.ok(isExactNumber(e[0]))
  assert.equal(e[1], 2)
  const f = v.f as Record<string, unknown>
  assert.ok(isExactNumber(f.g) && f.g.rawJSON === '0.1000000000000000055511')
  assert.equal(f.h, 123456789012345)
  // Exactly representable long literals stay numbers: 2^53 and trailing zeros.
  assert.deepEqual(parseJson('[9007199254740992, 1.0000000000000000000]'), [9007199254740992, 1])
  // Overflow and underflow written with all their digits are kept.
  const big = `1${'0'.repeat(400)}`
  const [kept] = parseJson(`[${big}]`) as unknown[]
  assert.ok(isExactNumber(kept) && kept.rawJSON === big)
})

test('the scan finds a 16-character run of digits and dots wherever it is, and nothing shorter', () => {
  for (let len = 1; len <= 40; len++) {
    for (let at = 0; at < 40; at++) {
      const run = '1'.repeat(len - 1) + '.'
      const text = `${'x'.repeat(at)}${run}${'y'.repeat(at % 7)}`
      assert.equal(hasLongDigitRun(text), len >= 16, `run of ${len} at ${at}`)
      assert.equal(bytesHaveLongDigitRun(Buffer.from(`é${text}`)), len >= 16, `bytes: run of ${len} at ${at}`)
    }
  }
  // Many short runs (timestamps, small numbers) are no hit.
  assert.equal(hasLongDigitRun('{"t":"2026-01-01T00:00:00.050Z","a":123456789012345,"b":0.05,"c":"user-12345"}'), false)
  assert.equal(hasLongDigitRun('{"t":"2026-01-01T00:00:00.050Z","a":1234567890123456}'), true)
})

test('decimal sameness and double exactness', () => {
  assert.ok(sameDecimal('1.50', '1.5'))
  assert.ok(sameDecimal('1.5e0', '15e-1'))
  assert.ok(sameDecimal('-0', '0'))
  assert.ok(sameDecimal('100', '1e2'))
  assert.ok(!sameDecimal('9007199254740993', '9007199254740992'))
  assert.ok(!sameDecimal('1', 'Infinity'))
  assert.ok(doubleIsExact('9007199254740992', 9007199254740992))
  assert.ok(!doubleIsExact('1e400', Number.POSITIVE_INFINITY))
  assert.ok(!doubleIsExact('0.1000000000000000055511', 0.1))
  assert.ok(isExactNumber(exactNumber('12')) && !isExactNumber(12) && !isExactNumber({ rawJSON: '12' }))
})

test('parseJsonBytes gives what parseJson gives', () => {
  const v = parseJsonBytes(EXAMPLE, Buffer.from(EXAMPLE)) as Record<string, unknown>
  assert.equal(JSON.stringify(v), JSON.stringify(parseJson(EXAMPLE)))
  assert.deepEqual(parseJsonBytes('{"a":1}', Buffer.from('{"a":1}')), { a: 1 })
})
