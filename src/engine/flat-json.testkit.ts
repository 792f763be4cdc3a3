/**
 * Random JSON event text for the flat-row tests (flat-json.test.ts, copy-flat.test.ts): flat
 * objects of every value kind with the numbers, strings and names that need care, written with
 * varied spacing, and damaged copies (cut, invalid UTF-8, a BOM, a key twice, not an object).
 */

/** A seeded generator (mulberry32), so that a failure is reproducible from its seed. */
export { rng as random } from '../config/gen-config.testkit.ts'

export function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T
}

/** Field names: the columns of the tests in several cases, integer-like, inherited and non-ASCII names. */
export const NAMES = ['id', 'ID', 'Id', 'name', 'NAME', 'amount', 'Amount', 'at', 'doc', 'tags', 'raw', 'flag', 'day', 'price', 'note', 'Ñame', 'ñame', 'straße', 'STRASSE', '1', '10', '__proto__', 'constructor', 'toString', 'extra', 'x y', '', 'key', 'KEY', '\u212aey', '\u0130d']

/** Number texts: plain ones and every form String(n) would write otherwise. */
export const NUMBERS = [
  '0', '1', '-1', '42', '123456789012345', '-123456789012345', '1234567890123456', '9007199254740993', '100000000000000000000', '1e21',
  '0.1', '-0.5', '123.456', '1.5', '1.50', '1.0', '-0', '-0.0', '0.0', '1e5', '1E5', '1e-7', '2.5e+3', '0.000001', '0.0000001', '0.00001234',
  '3.14159265358979', '3.141592653589793', '0.30000000000000004', '1e400', '-1e400', '5e-324', '1.7976931348623157e308', '12345678.12', '1.005', '99.999',
]

/** String values as JSON text (escapes, UTF-8, characters COPY escapes once decoded). */
export const STRINGS = [
  '""', '"plain"', '"with space"', '"é 🦀 中文"', '"tab\\there"', '"new\\nline"', '"back\\\\slash"', '"q\\"uote"', '"\\u0000"', '"\\u2028"', '"\\/"',
  '"\\ud83e\\udd80"', '"\\ud800"',
  // Past 256 bytes a string's rest is searched natively (flat-json.ts longRun).
  `"${'x'.repeat(600)}"`, `"${'y'.repeat(270)}\\n${'z'.repeat(300)}"`, `"${'a'.repeat(265)}é${'b'.repeat(300)}🦀"`, `"${'c'.repeat(256)}"`, `"${'d'.repeat(255)}\\"${'e'.repeat(10)}"`,
  `"${'f'.repeat(300)}\\u00e9${'g'.repeat(300)}"`,
  '"2026-01-02T03:04:05.006Z"', '"2026-01-02"', '"1.005"', '"12.5"', '"Infinity"', '"NaN"', '"true"', '"\\\\N"', '"123"',
]

export const OTHERS = ['true', 'false', 'null', '{}', '[]', '{"a": 1, "b": [1, "x", null]}', '["x", null, "q\\"uote"]', '[1, 2.50, 9007199254740993]', '{"s": "a\\tb", "n": 1.0}', '[[[]]]']

function spacing(rnd: () => number): string {
  return pick(rnd, ['', '', '', ' ', '  ', '\n', '\t', '\r\n '])
}

/** One flat event: random fields (a name at most once unless `duplicate`), random values, random spacing. */
export function eventText(rnd: () => number, duplicate = false): string {
  const count = Math.floor(rnd() * 8)
  const used = new Set<string>()
  const parts: string[] = []
  for (let i = 0; i < count; i++) {
    const name = pick(rnd, NAMES)
    if (used.has(name) && !duplicate) continue
    used.add(name)
    const r = rnd()
    const value = r < 0.35 ? pick(rnd, NUMBERS) : r < 0.7 ? pick(rnd, STRINGS) : pick(rnd, OTHERS)
    parts.push(`${spacing(rnd)}${JSON.stringify(name)}${spacing(rnd)}:${spacing(rnd)}${value}${spacing(rnd)}`)
  }
  return `${spacing(rnd)}{${parts.join(',')}}${spacing(rnd)}`
}

/** A damaged copy of `text`'s bytes, or an escaped key, or a value that is not an object. */
export function damaged(rnd: () => number, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return bytes.subarray(0, Math.floor(rnd() * bytes.length))
    case 1: {
      const out = Buffer.from(bytes)
      if (out.length > 0) out[Math.floor(rnd() * out.length)] = pick(rnd, [0xff, 0xc3, 0x80, 0x00, 0x0a, 0x22, 0x5c, 0x7d, 0x2c])
      return out
    }
    case 2:
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes])
    case 3:
      return Buffer.from(text.replace('{', '{"id": 1, "id": 2,'), 'utf8')
    case 4:
      return Buffer.from(text.replace('{', '{"i\\u0064": 3,'), 'utf8')
    case 5:
      return Buffer.from(pick(rnd, ['[]', '1', '"x"', 'null', 'true', '', ' ', '{', '}', '{"a"}', '{"a":}', '{"a":1,}', '{,}', '{"a":1}x', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":+1}', '{"a":tru}', '{"a":"\\x"}', '{"a":"\\u12"}']), 'utf8')
    case 6:
      return Buffer.concat([bytes, Buffer.from(pick(rnd, ['x', ',', '}', '{}', '\u00a0']), 'utf8')])
    case 7:
      return Buffer.from(text.replace('{', '{"deep": ' + '['.repeat(70) + ']'.repeat(70) + ','), 'utf8')
    default:
      return Buffer.from(text.replace('{', `{${Array.from({ length: 300 }, (_, i) => `"f${i}":${i}`).join(',')},`), 'utf8')
  }
}
