import { test } from 'node:test'
import assert from 'node:assert/strict'
import { byteSizePattern, formatByteSize, parseByteSize } from './byte-size.ts'

test('byte sizes: numbers, numeric strings and units, all powers of 1024', () => {
  const cases: [string | number, number][] = [
    [1, 1],
    [67108864, 67108864],
    ['4096', 4096],
    ['64 MiB', 64 * 1024 ** 2],
    ['64MB', 64 * 1024 ** 2],
    ['64m', 64 * 1024 ** 2],
    ['512 KiB', 512 * 1024],
    ['512k', 512 * 1024],
    ['1g', 1024 ** 3],
    ['1.5 GiB', 1.5 * 1024 ** 3],
    [' 10 b ', 10],
    ['2 kB', 2048],
    ['0.5k', 512],
    ['1.7 b', 1],
  ]
  for (const [input, bytes] of cases) {
    assert.deepEqual(parseByteSize(input), { ok: true, bytes }, String(input))
    if (typeof input === 'string') assert.match(input, new RegExp(byteSizePattern), `schema pattern accepts ${input}`)
  }
})

test('byte sizes: what is refused says what is allowed', () => {
  for (const input of ['', 'lots', '64 MiBs', '-1', '1e6', '0', 0, -5, 1.5, '0.1 b', '64 TB', 'MiB']) {
    const r = parseByteSize(input)
    assert.equal(r.ok, false, String(input))
    if (!r.ok) assert.match(r.message, /size|unit/, String(input))
  }
  for (const input of ['64 MiBs', '-1', '1e6', 'MiB', '64 TB']) assert.doesNotMatch(input, new RegExp(byteSizePattern), input)
})

test('byte sizes: short text for logs', () => {
  assert.equal(formatByteSize(64 * 1024 ** 2), '64 MiB')
  assert.equal(formatByteSize(1536), '1.5 KiB')
  assert.equal(formatByteSize(17), '17 B')
})
