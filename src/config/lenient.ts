/**
 * Zod building blocks for the lenient spellings pipeline files use (the seed accepts "AvailableNow",
 * "send_to_dlq", "5000" for numbers...). Each helper validates with its own message that says what is
 * allowed, and carries JSON Schema metadata listing the canonical forms for editors.
 */
import * as z from 'zod'
import { byteSizeHelp, byteSizePattern, parseByteSize } from './byte-size.ts'
import { durationHelp, durationPattern, parseDuration } from './duration.ts'
import { didYouMean } from './suggest.ts'
import { FIELD_PATH_HELP, parseFieldPath } from '../api/field-path.ts'

/** JSON Schema alternative for a string holding a `${VAR}` reference (interpolated before validation). */
export const interpolationSchema = { type: 'string', pattern: '\\$\\{[^}]*\\}', description: '${VAR} or ${VAR:-default}' }

/** Lower case with spaces, `_` and `-` removed: the comparison form of every lenient word. */
export function normalizeWord(s: string): string {
  return s.trim().toLowerCase().replace(/[\s_-]/g, '')
}

/** A JSON Schema pattern matching `words` in any case, with optional `_`/`-` between letters. */
export function lenientPattern(words: readonly string[]): string {
  const alts = words.map((w) =>
    [...normalizeWord(w)]
      .map((ch) => (/[a-z]/.test(ch) ? `[${ch}${ch.toUpperCase()}]` : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('[_-]?'),
  )
  return `^\\s*(${alts.join('|')})\\s*$`
}

/**
 * A string enum accepting canonical values and aliases in any case, with `_`/`-` ignored; parses to
 * the canonical value.
 */
export function lenientEnum<const T extends string>(
  canonical: readonly T[],
  description: string,
  aliases: Record<string, NoInfer<T>> = {},
) {
  const table = new Map<string, T>()
  for (const c of canonical) table.set(normalizeWord(c), c)
  for (const [alias, c] of Object.entries(aliases)) table.set(normalizeWord(alias), c)
  const aliasNote = canonical.length === 1 && Object.keys(aliases).length > 0 ? ` (also ${Object.keys(aliases).map((a) => `"${a}"`).join(', ')})` : ''
  const allowed = `one of ${canonical.map((c) => `"${c}"`).join(', ')}${aliasNote}`
  return z
    .string({ error: `must be a string, ${allowed}` })
    .meta({
      description,
      anyOf: [{ enum: [...canonical] }, { pattern: lenientPattern([...table.keys()]) }, interpolationSchema],
    })
    .transform((v, ctx): T => {
      const c = table.get(normalizeWord(v))
      if (c !== undefined) return c
      const hint = didYouMean(normalizeWord(v), [...table.keys()])
      ctx.issues.push({ code: 'custom', input: v, message: `must be ${allowed}${hint ? `; ${hint}` : ''}` })
      return z.NEVER
    })
}

/**
 * Parameters of a cross-field check that must run even when a sibling field already failed, so a file
 * gets every problem reported at once. Such checks see unparsed values and must test types first;
 * they run only when the object itself is there (a missing section is reported by its own issue).
 */
export const always = { when: (payload: { value: unknown }) => payload.value !== null && typeof payload.value === 'object' }

const intPattern = '^\\s*-?\\d+\\s*$'
const numberPattern = '^\\s*-?(\\d+(\\.\\d+)?|\\.\\d+)\\s*$'

/** Bounds for lenient numbers. */
export interface NumberBounds {
  min?: number
  max?: number
  /** When true the minimum itself is not allowed (x > min). */
  exclusiveMin?: boolean
}

function boundsText(b: NumberBounds): string {
  const parts: string[] = []
  if (b.min !== undefined) parts.push(`${b.exclusiveMin ? '>' : '>='} ${b.min}`)
  if (b.max !== undefined) parts.push(`<= ${b.max}`)
  return parts.join(' and ')
}

function lenientNumeric(kind: 'integer' | 'number', bounds: NumberBounds, description: string) {
  const what = `${kind === 'integer' ? 'an integer' : 'a number'}${boundsText(bounds) ? ` ${boundsText(bounds)}` : ''}`
  const numberSchema: Record<string, unknown> = { type: kind }
  if (bounds.min !== undefined) numberSchema[bounds.exclusiveMin ? 'exclusiveMinimum' : 'minimum'] = bounds.min
  if (bounds.max !== undefined) numberSchema['maximum'] = bounds.max
  return z
    .union([z.number(), z.string()], { error: `must be ${what}` })
    .meta({
      description,
      anyOf: [numberSchema, { type: 'string', pattern: kind === 'integer' ? intPattern : numberPattern }, interpolationSchema],
    })
    .transform((v, ctx): number => {
      const n = typeof v === 'number' ? v : new RegExp(kind === 'integer' ? intPattern : numberPattern).test(v) ? Number(v) : NaN
      const ok =
        Number.isFinite(n) &&
        (kind === 'number' || Number.isSafeInteger(n)) &&
        (bounds.min === undefined || (bounds.exclusiveMin ? n > bounds.min : n >= bounds.min)) &&
        (bounds.max === undefined || n <= bounds.max)
      if (ok) return n
      ctx.issues.push({ code: 'custom', input: v, message: `must be ${what}` })
      return z.NEVER
    })
}

/** An integer, also accepted as a numeric string ("5000"), within bounds. */
export function lenientInt(bounds: NumberBounds, description: string) {
  return lenientNumeric('integer', bounds, description)
}

/** A finite number, also accepted as a numeric string, within bounds. */
export function lenientNumber(bounds: NumberBounds, description: string) {
  return lenientNumeric('number', bounds, description)
}

/** A boolean, also accepted as "true"/"false" (any case). */
export function lenientBool(description: string) {
  return z
    .union([z.boolean(), z.string()], { error: 'must be true or false' })
    .meta({ description, anyOf: [{ type: 'boolean' }, { type: 'string', pattern: lenientPattern(['true', 'false']) }, interpolationSchema] })
    .transform((v, ctx): boolean => {
      if (typeof v === 'boolean') return v
      const w = normalizeWord(v)
      if (w === 'true' || w === 'false') return w === 'true'
      ctx.issues.push({ code: 'custom', input: v, message: 'must be true or false' })
      return z.NEVER
    })
}

/** A duration in milliseconds from an interval string or a number of milliseconds. */
export function duration(description: string, options: { positive?: boolean } = {}) {
  return z
    .union([z.number(), z.string()], { error: `must be ${durationHelp}` })
    .meta({
      description,
      anyOf: [
        { type: 'number', [options.positive ? 'exclusiveMinimum' : 'minimum']: 0 },
        { type: 'string', pattern: durationPattern },
        interpolationSchema,
      ],
    })
    .transform((v, ctx): number => {
      const r = parseDuration(v)
      if (r.ok && options.positive && r.ms === 0) {
        ctx.issues.push({ code: 'custom', input: v, message: `must be longer than zero: ${durationHelp}` })
        return z.NEVER
      }
      if (r.ok) return r.ms
      ctx.issues.push({ code: 'custom', input: v, message: r.message })
      return z.NEVER
    })
}

/** A byte size in bytes from a number of bytes or a size string such as "64 MiB" (byte-size.ts). */
export function byteSize(description: string) {
  return z
    .union([z.number(), z.string()], { error: `must be ${byteSizeHelp}` })
    .meta({ description, anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: byteSizePattern }, interpolationSchema] })
    .transform((v, ctx): number => {
      const r = parseByteSize(v)
      if (r.ok) return r.bytes
      ctx.issues.push({ code: 'custom', input: v, message: r.message })
      return z.NEVER
    })
}

/** A non-empty string (after trimming), kept as written. */
export function text(description: string) {
  return z
    .string({ error: 'must be a non-empty string' })
    .min(1, { error: 'must be a non-empty string' })
    .refine((s) => s.trim().length > 0, { error: 'must be a non-empty string' })
    .describe(description)
}

/**
 * A field of the record to read: a plain name or a path (`a.b`, `items[0].sku`, api/field-path.ts),
 * checked here so that a bad path is refused with the file's other problems, not when a step runs.
 */
export function fieldPathText(description: string) {
  return text(`${description} A field name or a path: "a.b.c", "items[0].sku"; a top-level field named exactly so wins (README "Field paths").`).superRefine((s, ctx) => {
    const p = parseFieldPath(s)
    if ('error' in p) ctx.addIssue({ code: 'custom', input: s, message: `field path ${p.error}: must be ${FIELD_PATH_HELP}` })
  })
}

/** Known keys of strict objects, keyed by the `keys` array of an unrecognized_keys issue. */
const knownKeysByIssue = new WeakMap<object, readonly string[]>()

/** The known keys of the object that raised an unrecognized_keys issue (see strictObject). */
export function knownKeysOf(issueKeys: object): readonly string[] {
  return knownKeysByIssue.get(issueKeys) ?? []
}

/**
 * z.strictObject that remembers its own keys, so an unknown key can be reported with a "did you
 * mean" suggestion (the issue's `keys` array is shared with the final issue, see issues.ts).
 */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S, description: string) {
  const known = Object.keys(shape)
  return z
    .strictObject(shape, {
      error: (iss) => {
        if (iss.code === 'unrecognized_keys') {
          knownKeysByIssue.set(iss.keys, known)
          return 'unknown key'
        }
        if (iss.code === 'invalid_type') return 'must be an object'
        return undefined
      },
    })
    .describe(description)
}
