/**
 * The `--to` of `sluice reset`: `earliest`, `latest`, an ISO-8601 time, or a JSON object of
 * positions by partition key (`{"orders/0": 120, "orders/1": 0}`). Only the shape is checked here
 * (so a typo is a usage error, exit 2, before anything connects); whether a partition exists and an
 * offset lies in its log is for the source to say (Source.resetTo).
 */
import type { ResetTarget } from '../api/reset.ts'

/** A `--to` that cannot be parsed; the message names the bad part. */
export class ResetTargetError extends Error {}

/** An ISO-8601 date, or date and time with a zone (Z or ±hh:mm): a time without a zone would depend on the machine. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i
const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/i

type Reviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown
const parseWith = JSON.parse as (text: string, reviver?: Reviver) => unknown

/** A JSON number's own text (a class, so no object of the input can pass for one). */
class NumberText {
  readonly number: string
  constructor(number: string) {
    this.number = number
  }

  /** In a message, the number again. */
  toJSON(): number {
    return Number(this.number)
  }
}

/** Numbers keep their JSON text, so an offset past 2^53 stays exact. */
function numberText(_key: string, value: unknown, context: { source?: string }): unknown {
  return typeof value === 'number' ? new NumberText(context.source ?? String(value)) : value
}

function isNumberText(v: unknown): v is NumberText {
  return v instanceof NumberText
}

/** One position value: a whole number (-2 earliest and -1 latest, as Spark's startingOffsets), a string (`done`), or null. */
function positionValue(key: string, v: unknown): string | null {
  const at = `at ${JSON.stringify(key)}`
  if (v === null) return null
  if (typeof v === 'string') {
    const s = v.trim()
    if (s === '') throw new ResetTargetError(`${at}: an empty string is not a position`)
    return s
  }
  if (isNumberText(v)) {
    if (!/^-?\d+$/.test(v.number)) throw new ResetTargetError(`${at}: ${v.number} is not a whole number (an offset is 0 or more; -2 is earliest, -1 latest)`)
    const n = BigInt(v.number)
    if (n < -2n) throw new ResetTargetError(`${at}: ${v.number} is not an offset (0 or more; -2 is earliest, -1 latest)`)
    return n.toString()
  }
  throw new ResetTargetError(`${at}: ${JSON.stringify(v)} is not a position (an offset such as 120, -2 for earliest, -1 for latest, a string such as "done", or null to forget it)`)
}

/** The positions object of `--to '{...}'`. */
function parsePositions(text: string): ResetTarget {
  let parsed: unknown
  try {
    parsed = parseWith(text, numberText)
  } catch (err) {
    throw new ResetTargetError(`not valid JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || isNumberText(parsed)) {
    throw new ResetTargetError('the positions must be a JSON object, e.g. {"orders/0": 120, "orders/1": 0}')
  }
  const entries = Object.entries(parsed)
  if (entries.length === 0) throw new ResetTargetError('the positions object names no partition, e.g. {"orders/0": 120}')
  const positions: Record<string, string | null> = {}
  for (const [key, value] of entries) {
    if (key.trim() === '') throw new ResetTargetError('a partition key is empty (keys are "topic/partition" or "file:<name>", as sluice status shows them)')
    positions[key] = positionValue(key, value)
  }
  return { kind: 'positions', positions }
}

/** Whether the date's day exists in its month (Date.parse reads 2026-02-30 as March 2). */
function realDay(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number]
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate()
}

/** Parses `--to`; throws ResetTargetError naming what is wrong and what is allowed. */
export function parseResetTarget(value: string): ResetTarget {
  const v = value.trim()
  const lower = v.toLowerCase()
  if (lower === 'earliest' || lower === 'latest') return { kind: lower }
  if (v.startsWith('{') || v.startsWith('[')) return parsePositions(v)
  if (ISO_NO_ZONE.test(v)) throw new ResetTargetError(`${JSON.stringify(v)} has no time zone: add Z (UTC) or an offset such as +02:00`)
  if (ISO_TIME.test(v)) {
    const ms = Date.parse(v.replace(' ', 'T'))
    if (Number.isFinite(ms) && realDay(v)) return { kind: 'time', ms }
    throw new ResetTargetError(`${JSON.stringify(v)} is not a valid date or time`)
  }
  throw new ResetTargetError(`${JSON.stringify(v)} is not a target: use earliest, latest, an ISO-8601 time (2026-11-25T10:00:00Z) or a JSON object of positions ({"orders/0": 120})`)
}
