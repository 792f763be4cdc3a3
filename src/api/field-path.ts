/**
 * Field paths: where a step, the watermark or the load's column mapping finds a value in a record's
 * nested JSON. `customer.address.city` follows object fields, `items[0].sku` an array element, and
 * `meta["trace.id"]` a field whose own name has a dot or a bracket.
 *
 * The rule for a name with a dot (backward compatible, README "Field paths"): **a top-level field
 * whose name is exactly the path's text wins**; only a record without one has the path followed.
 * So a payload key "a.b", the metadata fields `_metadata.timestamp`, and a column a `select` of a
 * path named after it are read as before. A path that does not resolve (a missing field on the way,
 * a non-object, an index past the end) is undefined, as a missing field is.
 *
 * Paths are parsed once, when a step is compiled; a plain name (no `.`, `[` or `]`) compiles to
 * exactly `fieldOf`, so it costs what it always did.
 */
import { type RowValues, fieldOf, setField } from './record.ts'

/** One step of a path: an object field's name or an array index. */
export type PathSegment = string | number

/** A parsed path: its text as written and its segments (the first is always a field name). */
export interface FieldPath {
  readonly text: string
  readonly segments: readonly [string, ...PathSegment[]]
}

/** What a path may look like, for config errors. */
export const FIELD_PATH_HELP = 'a field name, or a path such as "customer.address.city", "items[0].sku" or \'meta["trace.id"]\' (a name with a dot or bracket in brackets and quotes)'

/** Reads one value of a record. */
export type FieldGetter = (values: Readonly<RowValues>) => unknown

/** True when the text is a plain field name, not a path (the common case, kept on the fast path). */
export function isPlainName(text: string): boolean {
  return !/[.[\]]/.test(text)
}

/** Parses a path, or says what is wrong with it (the caller adds the path and FIELD_PATH_HELP). */
export function parseFieldPath(text: string): FieldPath | { readonly error: string } {
  if (text.length === 0) return { error: 'is empty' }
  if (isPlainName(text)) return { text, segments: [text] }
  const segments: PathSegment[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '[') {
      const r = bracket(text, i)
      if ('error' in r) return r
      if (segments.length === 0 && typeof r.segment === 'number') return { error: 'starts with an index: a record is an object, so a path starts with a field name' }
      segments.push(r.segment)
      i = r.end
    } else {
      if (segments.length > 0) {
        if (c !== '.') return { error: `has "${c}" at position ${i + 1} where "." or "[" must follow a segment` }
        i++
      }
      const start = i
      while (i < text.length && !'.[]'.includes(text[i] as string)) i++
      if (i === start) return { error: `has an empty field name at position ${start + 1}` }
      if (text[i] === ']') return { error: `has "]" at position ${i + 1} without "["` }
      segments.push(text.slice(start, i))
    }
  }
  const [first, ...rest] = segments
  if (typeof first !== 'string') return { error: 'starts with an index: a record is an object, so a path starts with a field name' }
  return { text, segments: [first, ...rest] }
}

/** `[3]` or `["a.b"]` at `at`: the segment and the index after it. */
function bracket(text: string, at: number): { segment: PathSegment; end: number } | { error: string } {
  const close = text[at + 1] === '"' ? quotedEnd(text, at + 2) : text.indexOf(']', at)
  if (close < 0 || text[close] !== ']') return { error: `has "[" at position ${at + 1} without its "]"` }
  const inner = text.slice(at + 1, close)
  if (/^\d+$/.test(inner)) {
    const n = Number(inner)
    if (Number.isSafeInteger(n)) return { segment: n, end: close + 1 }
  }
  if (inner.startsWith('"')) {
    try {
      const name: unknown = JSON.parse(inner)
      if (typeof name === 'string' && name.length > 0) return { segment: name, end: close + 1 }
    } catch {
      // reported below
    }
  }
  return { error: `has [${inner}] at position ${at + 1}: brackets hold an array index (0, 1, ...) or a quoted field name ("b.c")` }
}

/** The index of the `]` after a JSON string that starts at `from` (past its opening quote), or -1. */
function quotedEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i + 1
  }
  return -1
}

/** Parses a path that config validation already accepted (a bad one here is a bug). */
export function fieldPath(text: string): FieldPath {
  const p = parseFieldPath(text)
  if ('error' in p) throw new Error(`field path "${text}" ${p.error}: it should have been refused by config validation`)
  return p
}

/** The top-level field a path starts from (what metadata and the sink need to know a path reads). */
export function rootField(text: string): string {
  return fieldPath(text).segments[0]
}

/** Compiles the reader of a path: a plain name is fieldOf; otherwise the own-key rule, then the path. */
export function fieldGetter(path: string | FieldPath): FieldGetter {
  const { text, segments } = typeof path === 'string' ? fieldPath(path) : path
  if (segments.length === 1 && segments[0] === text) return (values) => fieldOf(values, text)
  return (values) => (Object.hasOwn(values, text) ? values[text] : follow(values, segments))
}

/** Readers of the names fieldAt has met: one per name a config can hold, so bounded by the configs. */
const readers = new Map<string, FieldGetter>()

/**
 * fieldGetter's value for code that reads by name per record (the stateful steps' group, input and
 * window columns): a field the record has under exactly this name is read as fieldOf reads it, so a
 * plain name costs what it did; only a miss looks the name's compiled path up.
 */
export function fieldAt(values: Readonly<RowValues>, name: string): unknown {
  if (Object.hasOwn(values, name)) return values[name]
  let get = readers.get(name)
  if (get === undefined) {
    get = fieldGetter(name)
    readers.set(name, get)
  }
  return get(values)
}

/** Follows the segments from the record: undefined as soon as one is missing or of the wrong kind. */
function follow(values: unknown, segments: readonly PathSegment[]): unknown {
  let current = values
  for (const s of segments) {
    current = child(current, s)
    if (current === undefined) return undefined
  }
  return current
}

/** A container's child: a field of a plain object (own, never inherited), an element of an array. */
function child(container: unknown, segment: PathSegment): unknown {
  if (typeof segment === 'number') return Array.isArray(container) ? container[segment] : undefined
  if (!isPlainObject(container)) return undefined
  return Object.hasOwn(container, segment) ? (container as RowValues)[segment] : undefined
}

/**
 * A JSON object: not an array, not a Date or Buffer, not an exact number (a raw-JSON object, whose
 * `rawJSON` is no field of the data).
 */
function isPlainObject(v: unknown): v is RowValues {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || (proto === null && !rawJson.isRawJSON(v))
}

/** V8's raw-JSON check (JSON.rawJSON objects have a null prototype, as Object.create(null) ones). */
const rawJson = JSON as unknown as { isRawJSON(value: unknown): boolean }

/**
 * Writes `value` at a path into `out` (the caller's own copy of a record) without changing any
 * object it shares with the input: the containers on the way are copied. The own-key rule decides
 * as for reading. Returns false (and changes no value) when the path does not lead to an existing
 * place, as a step leaves a missing field missing.
 */
export function setAtPath(out: RowValues, path: FieldPath, value: unknown): boolean {
  const { text, segments } = path
  if (segments.length === 1 || Object.hasOwn(out, text)) {
    setField(out, segments.length === 1 ? segments[0] : text, value)
    return true
  }
  let parent: RowValues | unknown[] = out
  for (let i = 0; i < segments.length - 1; i++) {
    const next = child(parent, segments[i] as PathSegment)
    const copy = Array.isArray(next) ? [...next] : isPlainObject(next) ? { ...next } : undefined
    if (copy === undefined) return false
    place(parent, segments[i] as PathSegment, copy)
    parent = copy
  }
  const last = segments[segments.length - 1] as PathSegment
  if (child(parent, last) === undefined) return false
  place(parent, last, value)
  return true
}

function place(container: RowValues | unknown[], segment: PathSegment, value: unknown): void {
  if (Array.isArray(container)) container[segment as number] = value
  else setField(container, String(segment), value)
}
