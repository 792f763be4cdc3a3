/**
 * Exact decimal arithmetic for the aggregate step's sums. JSON numbers are decimal literals; adding
 * them as doubles drifts (0.1 + 0.2), and the table merges sums in `numeric`, so a batch's partial sum
 * is kept exact here as a scaled BigInt and handed to the sink as decimal text. A number too long
 * for a double arrives as an ExactNumber (its JSON text) and is read from that text.
 */
import { isExactNumber } from './exact-number.ts'

/** value = digits / 10^scale. */
export interface Decimal {
  readonly digits: bigint
  readonly scale: number
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i
// Exponents beyond this would make BigInts of absurd size from a few bytes of input.
const MAX_EXPONENT = 1000

/** Parses a number, bigint, ExactNumber or numeric string; null when it is none of these (or not finite). */
export function toDecimal(value: unknown): Decimal | null {
  if (typeof value === 'bigint') return { digits: value, scale: 0 }
  let text: string
  if (isExactNumber(value)) {
    text = value.rawJSON
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null
    text = String(value)
  } else if (typeof value === 'string') {
    text = value.trim()
  } else {
    return null
  }
  const m = DECIMAL_TEXT.exec(text)
  if (m === null) return null
  const whole = m[2] ?? ''
  const fraction = m[3] ?? ''
  if (whole === '' && fraction === '') return null
  const exponent = m[4] === undefined ? 0 : Number(m[4])
  if (Math.abs(exponent) > MAX_EXPONENT) return null
  let digits = BigInt(whole + fraction === '' ? '0' : whole + fraction)
  let scale = fraction.length - exponent
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale)
    scale = 0
  }
  return { digits: m[1] === '-' ? -digits : digits, scale }
}

function aligned(a: Decimal, b: Decimal): [bigint, bigint, number] {
  if (a.scale === b.scale) return [a.digits, b.digits, a.scale]
  if (a.scale < b.scale) return [a.digits * 10n ** BigInt(b.scale - a.scale), b.digits, b.scale]
  return [a.digits, b.digits * 10n ** BigInt(a.scale - b.scale), a.scale]
}

/** a + b, exactly. */
export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = aligned(a, b)
  return { digits: x + y, scale }
}

/** Negative, zero or positive as a < b, a = b, a > b. */
export function compareDecimal(a: Decimal, b: Decimal): number {
  const [x, y] = aligned(a, b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** Plain decimal text without exponent or trailing fractional zeros, e.g. `-12.5`. */
export function decimalText(d: Decimal): string {
  const negative = d.digits < 0n
  let text = (negative ? -d.digits : d.digits).toString()
  if (d.scale > 0) {
    text = text.padStart(d.scale + 1, '0')
    const whole = text.slice(0, text.length - d.scale)
    const fraction = text.slice(text.length - d.scale).replace(/0+$/, '')
    text = fraction === '' ? whole : `${whole}.${fraction}`
  }
  return negative && text !== '0' ? `-${text}` : text
}
