/**
 * A JSON object's top-level fields as byte spans, without building the object (issue 13).
 *
 * Most events are a flat object of strings, numbers and booleans that go into the table as they
 * are; parsing them into objects (UTF-8 decode, JSON.parse, a property per field) and encoding the
 * objects into COPY text again was over a third of a load's CPU and most of its garbage. When
 * nothing on the record path reads a record's values (no schema, step, watermark, metadata or
 * delete), the record path keeps the spans instead (flat-row.ts) and the sink copies the bytes of
 * plain values straight into its COPY text (copy-encode.ts); any value it cannot copy as it is makes
 * it read the values, which are parsed then, by the same decode as always.
 *
 * `scanFlat` is a validating scanner: it returns spans only for a value that `JSON.parse` accepts
 * as an object with the same fields, and null for anything else (invalid UTF-8 or JSON, not an
 * object, a key with an escape, a key written twice), which then takes the decode path and gets
 * its usual verdict (a row, or a RECORD_DECODE dead letter with the reason). Each value gets a
 * kind, and the kinds that may be copied byte for byte are exactly those whose bytes are what the
 * object path would write (see FieldKind).
 */
import { isUtf8 } from 'node:buffer'
import type { FlatFields } from '../api/record.ts'

/**
 * What a field's value is. Only PLAIN_STRING, PLAIN_NUMBER, TRUE, FALSE and NULL are copied as bytes.
 * - PLAIN_STRING: a string without a backslash. It then holds no character COPY text escapes (a
 *   JSON string has no raw control characters), and its bytes are its UTF-8.
 * - PLAIN_NUMBER: a number whose text is what `String(JSON.parse(text))` gives: at most 15
 *   significant digits (a double keeps those exactly, and no shorter text has the same double), no
 *   exponent, no trailing zero in a fraction, no `-0`, and not below 1e-6 (JS writes those with an
 *   exponent).
 * - OTHER_STRING, OTHER_NUMBER, COMPLEX (an object or array): the sink reads the parsed value.
 */
export const FieldKind = {
  PLAIN_STRING: 1,
  OTHER_STRING: 2,
  PLAIN_NUMBER: 3,
  OTHER_NUMBER: 4,
  TRUE: 5,
  FALSE: 6,
  NULL: 7,
  COMPLEX: 8,
} as const
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind]

/**
 * Ints per field in FlatFields.spans: key hash, key start, key end, value start, value end, kind
 * (string spans exclude the quotes). One shared array holds many records' spans: a typed array per
 * record cost more than the scan.
 */
export const SPAN = 6
const HASH = 0
const KEY_START = 1
const KEY_END = 2
const VALUE_START = 3
const VALUE_END = 4
const KIND = 5

/** Nesting the scanner follows in a complex value before it leaves the record to JSON.parse. */
const MAX_DEPTH = 64
/** Fields scanned at most (a wider object is parsed). */
const MAX_FIELDS = 256

/** Ints per shared spans array (256 KiB; at most MAX_FIELDS * SPAN of it are left unused). */
const ARENA = 1 << 16
let arena = new Int32Array(ARENA)
let arenaUsed = 0

/** Byte values of the JSON grammar. */
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const QUOTE = 0x22
const COMMA = 0x2c
const MINUS = 0x2d
const PLUS = 0x2b
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const COLON = 0x3a
const OPEN_BRACKET = 0x5b
const BACKSLASH = 0x5c
const CLOSE_BRACKET = 0x5d
const LOWER_E = 0x65
const UPPER_E = 0x45
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
}

function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB
}

/** Bytes of a string the loop has passed over before the rest is searched natively (Scanner#longRun). */
const LONG_RUN = 256
/** What ends a run inside a string: a control character or a backslash (the quote ends the search). */
const STRING_STOP = /[\x00-\x1f\\]/

const TRUE_BYTES = [0x74, 0x72, 0x75, 0x65]
const FALSE_BYTES = [0x66, 0x61, 0x6c, 0x73, 0x65]
const NULL_BYTES = [0x6e, 0x75, 0x6c, 0x6c]

/** One scan: the bytes, the position (past the last byte read: reads beyond it give 0) and whether a byte >= 0x80 was seen. */
class Scanner {
  b: Buffer = EMPTY
  n = 0
  pos = 0
  high = false

  reset(b: Buffer): void {
    this.b = b
    this.n = b.length
    this.pos = 0
    this.high = false
  }

  at(i: number): number {
    return i < this.n ? (this.b[i] as number) : 0
  }

  skipWs(): void {
    let p = this.pos
    while (p < this.n && isWs(this.b[p] as number)) p++
    this.pos = p
  }

  /**
   * Scans a string whose opening quote is at pos - 1; leaves pos after the closing quote. Returns
   * 1 for a string without escapes, 2 with valid escapes, 0 when invalid.
   */
  string(): number {
    const b = this.b
    const n = this.n
    let p = this.pos
    let escaped = false
    // Blocks of LONG_RUN bytes a byte at a time; between blocks, the native search (longRun).
    for (let end = Math.min(n, p + LONG_RUN); p < n; p = this.longRun(p), end = Math.min(n, p + LONG_RUN)) {
      while (p < end) {
        const c = b[p++] as number
        // Printable ASCII other than the quote and the backslash, by comparisons (cheaper than a table).
        if (c > QUOTE ? c < 0x80 && c !== BACKSLASH : c >= SPACE && c !== QUOTE) continue
        if (c === QUOTE) {
          this.pos = p
          return escaped ? 2 : 1
        }
        if (c >= 0x80) {
          this.high = true
          continue
        }
        if (c !== BACKSLASH || p >= n) return 0 // a raw control character
        escaped = true
        const e = b[p++] as number
        if (e === 0x75) {
          // \uXXXX
          if (p + 4 > n || !(isHex(b[p] as number) && isHex(b[p + 1] as number) && isHex(b[p + 2] as number) && isHex(b[p + 3] as number))) return 0
          p += 4
        } else if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) return 0
      }
    }
    return 0
  }

  /**
   * In a long string, from p: where the run of bytes the loop passes over ends (at a quote,
   * backslash or control character), found by native searches instead of a byte at a time (a
   * 10 KB value: 10 us a byte at a time, 5 us so; below 256 bytes the calls cost more than they
   * save). Bytes >= 0x80 are passed over here, so `high` is set: the UTF-8 check
   * at the end then covers them.
   */
  longRun(p: number): number {
    const q = this.b.indexOf(QUOTE, p)
    if (q < 0) return this.n // never closed: the loop ends, the string is invalid
    const stop = this.b.toString('latin1', p, q).search(STRING_STOP)
    this.high = true
    return stop < 0 ? q : p + stop
  }

  digits(): number {
    const b = this.b
    const n = this.n
    const start = this.pos
    let p = start
    while (p < n) {
      const c = b[p] as number
      if (c < ZERO || c > NINE) break
      p++
    }
    this.pos = p
    return p - start
  }

  /** Scans a number at pos; returns its kind, or 0 when it is not JSON. */
  number(): number {
    const negative = this.at(this.pos) === MINUS
    if (negative) this.pos++
    const intStart = this.pos
    const intDigits = this.digits()
    if (intDigits === 0) return 0
    const leadingZero = this.at(intStart) === ZERO
    if (leadingZero && intDigits > 1) return 0
    let plain = true
    let significant = leadingZero ? 0 : intDigits
    if (this.at(this.pos) === DOT) {
      this.pos++
      const fracStart = this.pos
      const fracDigits = this.digits()
      if (fracDigits === 0) return 0
      if (this.at(this.pos - 1) === ZERO) plain = false
      if (leadingZero) {
        // 0.000123: zeros after the point are not significant, and more than five make JS write 1.23e-7.
        let zeros = 0
        while (zeros < fracDigits && this.at(fracStart + zeros) === ZERO) zeros++
        if (zeros > 5) plain = false
        significant = fracDigits - zeros
      } else significant += fracDigits
    } else if (negative && leadingZero) plain = false // -0 is written 0
    const e = this.at(this.pos)
    if (e === LOWER_E || e === UPPER_E) {
      plain = false
      this.pos++
      const sign = this.at(this.pos)
      if (sign === PLUS || sign === MINUS) this.pos++
      if (this.digits() === 0) return 0
    }
    if (significant > 15) plain = false
    return plain ? FieldKind.PLAIN_NUMBER : FieldKind.OTHER_NUMBER
  }

  literal(text: readonly number[]): boolean {
    for (let i = 0; i < text.length; i++) if (this.at(this.pos + i) !== text[i]) return false
    this.pos += text.length
    return true
  }

  /** Scans any JSON value at pos (nested ones to MAX_DEPTH); returns its kind, or 0 when invalid. */
  value(depth: number): number {
    const c = this.at(this.pos)
    switch (c) {
      case QUOTE: {
        this.pos++
        const s = this.string()
        return s === 1 ? FieldKind.PLAIN_STRING : s === 2 ? FieldKind.OTHER_STRING : 0
      }
      case 0x74:
        return this.literal(TRUE_BYTES) ? FieldKind.TRUE : 0
      case 0x66:
        return this.literal(FALSE_BYTES) ? FieldKind.FALSE : 0
      case 0x6e:
        return this.literal(NULL_BYTES) ? FieldKind.NULL : 0
      case OPEN_BRACE:
      case OPEN_BRACKET:
        return depth < MAX_DEPTH && this.nested(depth + 1) ? FieldKind.COMPLEX : 0
      default:
        return c === MINUS || (c >= ZERO && c <= NINE) ? this.number() : 0
    }
  }

  /** Validates a nested object or array at pos (its keys may have escapes: nothing reads them here). */
  nested(depth: number): boolean {
    const object = this.at(this.pos) === OPEN_BRACE
    const close = object ? CLOSE_BRACE : CLOSE_BRACKET
    this.pos++
    this.skipWs()
    if (this.at(this.pos) === close) {
      this.pos++
      return true
    }
    for (;;) {
      if (object) {
        if (this.at(this.pos) !== QUOTE) return false
        this.pos++
        if (this.string() === 0) return false
        this.skipWs()
        if (this.at(this.pos) !== COLON) return false
        this.pos++
        this.skipWs()
      }
      if (this.value(depth) === 0) return false
      this.skipWs()
      const next = this.at(this.pos++)
      if (next === close) return true
      if (next !== COMMA) return false
      this.skipWs()
    }
  }
}

const EMPTY = Buffer.alloc(0)
const scanner = new Scanner()

/** FNV-1a of key bytes [start, end): compared before the bytes when a field is looked up. */
function keyHash(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193)
  return h | 0
}

function sameBytes(b: Uint8Array, s1: number, e1: number, s2: number): boolean {
  for (let i = s1; i < e1; i++) if (b[i] !== b[s2 + i - s1]) return false
  return true
}

/** Where scanInto leaves a scan's spans (FlatFields without the bytes). */
export interface FlatScan {
  spans: Int32Array
  base: number
  count: number
  asciiKeys: boolean
}

/**
 * The fields of `bytes` when it is a JSON object that can be read by spans (see the file comment),
 * or null: the record is then decoded as before.
 */
export function scanFlat(bytes: Buffer): FlatFields | null {
  const out: FlatScan = { spans: arena, base: 0, count: 0, asciiKeys: true }
  return scanInto(bytes, out) ? { bytes, spans: out.spans, base: out.base, count: out.count, asciiKeys: out.asciiKeys } : null
}

/**
 * scanFlat into `out` (true when `bytes` can be read by spans): the record path's form, which
 * reuses one `out` and keeps the spans in its row, one object less per record.
 */
export function scanInto(bytes: Buffer, out: FlatScan): boolean {
  const sc = scanner
  if (arenaUsed + MAX_FIELDS * SPAN > arena.length) {
    arena = new Int32Array(ARENA)
    arenaUsed = 0
  }
  const spans = arena
  const base = arenaUsed
  sc.reset(bytes)
  sc.skipWs()
  if (sc.at(sc.pos) !== OPEN_BRACE) return false
  sc.pos++
  sc.skipWs()
  let n = 0
  let asciiKeys = true
  if (sc.at(sc.pos) === CLOSE_BRACE) sc.pos++
  else {
    for (;;) {
      if (sc.at(sc.pos) !== QUOTE || n === MAX_FIELDS) return false
      const keyStart = ++sc.pos
      // `high` says whether this key has a byte >= 0x80; the whole value's flag is restored after.
      const highBefore = sc.high
      sc.high = false
      if (sc.string() !== 1) return false // an escaped key is left to JSON.parse
      const keyEnd = sc.pos - 1
      if (sc.high) asciiKeys = false
      sc.high ||= highBefore
      sc.skipWs()
      if (sc.at(sc.pos) !== COLON) return false
      sc.pos++
      sc.skipWs()
      const valueStart = sc.pos
      const kind = sc.value(0)
      if (kind === 0) return false
      const string = kind === FieldKind.PLAIN_STRING || kind === FieldKind.OTHER_STRING
      const h = keyHash(bytes, keyStart, keyEnd)
      // A key written twice: JSON.parse keeps the last value; left to it.
      for (let f = 0; f < n; f++) {
        const o = base + f * SPAN
        if (spans[o + HASH] === h && (spans[o + KEY_END] as number) - (spans[o + KEY_START] as number) === keyEnd - keyStart && sameBytes(bytes, keyStart, keyEnd, spans[o + KEY_START] as number)) return false
      }
      const o = base + n * SPAN
      spans[o + HASH] = h
      spans[o + KEY_START] = keyStart
      spans[o + KEY_END] = keyEnd
      spans[o + VALUE_START] = string ? valueStart + 1 : valueStart
      spans[o + VALUE_END] = string ? sc.pos - 1 : sc.pos
      spans[o + KIND] = kind
      n++
      sc.skipWs()
      const next = sc.at(sc.pos++)
      if (next === CLOSE_BRACE) break
      if (next !== COMMA) return false
      sc.skipWs()
    }
  }
  sc.skipWs()
  if (sc.pos !== bytes.length) return false
  if (sc.high && !isUtf8(bytes)) return false
  arenaUsed = base + n * SPAN
  out.spans = spans
  out.base = base
  out.count = n
  out.asciiKeys = asciiKeys
  return true
}

export function fieldKind(f: FlatFields, i: number): FieldKind {
  return f.spans[f.base + i * SPAN + KIND] as FieldKind
}

export function valueStart(f: FlatFields, i: number): number {
  return f.spans[f.base + i * SPAN + VALUE_START] as number
}

export function valueEnd(f: FlatFields, i: number): number {
  return f.spans[f.base + i * SPAN + VALUE_END] as number
}

/** A column name prepared for lookups: its UTF-8 bytes, hash, and lower case when that is ASCII. */
export interface FieldName {
  readonly bytes: Uint8Array
  readonly hash: number
  /**
   * `name.toLowerCase()` as bytes when it is ASCII (a non-ASCII name may have one: the Kelvin sign
   * lowers to `k`); null when it is not, and then no ASCII key matches it case-insensitively.
   */
  readonly lower: Uint8Array | null
}

export function fieldName(name: string): FieldName {
  const bytes = Buffer.from(name, 'utf8')
  const lower = Buffer.from(name.toLowerCase(), 'utf8')
  return { bytes, hash: keyHash(bytes, 0, bytes.length), lower: lower.every((c) => c < 0x80) ? lower : null }
}

/** Not in the record. */
export const ABSENT = -1
/** Only the parsed values can say (a case-insensitive match over non-ASCII keys). */
export const ASK_VALUES = -2

function keyIs(f: FlatFields, i: number, name: Uint8Array): boolean {
  const o = f.base + i * SPAN
  const s = f.spans[o + KEY_START] as number
  if ((f.spans[o + KEY_END] as number) - s !== name.length) return false
  const b = f.bytes
  for (let k = 0; k < name.length; k++) if (b[s + k] !== name[k]) return false
  return true
}

function keyIsLower(f: FlatFields, i: number, lower: Uint8Array): boolean {
  const o = f.base + i * SPAN
  const s = f.spans[o + KEY_START] as number
  if ((f.spans[o + KEY_END] as number) - s !== lower.length) return false
  const b = f.bytes
  for (let k = 0; k < lower.length; k++) {
    let c = b[s + k] as number
    if (c >= 0x41 && c <= 0x5a) c += 0x20
    if (c !== lower[k]) return false
  }
  return true
}

/**
 * The field a column reads, by the sink's rule (copy-encode.ts fieldValue): the exact name, else
 * the first field whose name matches case-insensitively. `hint` is the index to try first (where
 * the previous record had it). Returns the field's index, ABSENT or ASK_VALUES.
 */
export function findField(f: FlatFields, name: FieldName, hint: number): number {
  const spans = f.spans
  const base = f.base
  const n = f.count
  // Keys are unique (scanFlat), so the first exact match is the only one.
  if (hint >= 0 && hint < n && spans[base + hint * SPAN + HASH] === name.hash && keyIs(f, hint, name.bytes)) return hint
  for (let i = 0; i < n; i++) if (spans[base + i * SPAN + HASH] === name.hash && keyIs(f, i, name.bytes)) return i
  if (n === 0) return ABSENT
  if (!f.asciiKeys) return ASK_VALUES
  // An ASCII key lowers to ASCII, which a name whose lower case is not ASCII never equals.
  if (name.lower === null) return ABSENT
  // JS objects list integer-like keys first; such a key has no case, so it matched exactly or not at all.
  for (let i = 0; i < n; i++) if (keyIsLower(f, i, name.lower)) return i
  return ABSENT
}
