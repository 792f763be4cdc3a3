/**
 * `sluice test --expect expected.ndjson`: compares what the samples became with what a file says
 * they must become, line by line (the N-th expected line against the N-th output line, the format
 * of `--json`). An expected line names only what it cares about: each member it has must equal the
 * output's (the whole value: a `row` is compared whole), and members it leaves out are not compared,
 * so `{"outcome": "dead", "code": "RECORD_SCHEMA"}` passes whatever the reason's wording. Numbers
 * compare exactly (a 20-digit id stays 20 digits on both sides).
 */
import { SluiceError } from '../errors.ts'
import { isExactNumber, parseJson } from '../engine/exact-number.ts'
import type { DryRunLine } from './dry-run.ts'

/** Parses an expected file: one JSON object per non-blank line. */
export function parseExpected(text: string, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let parsed: unknown
    try {
      parsed = parseJson(line)
    } catch (err) {
      throw new SluiceError('CONFIG_UNREADABLE', `${file} line ${i + 1}: not JSON (${(err as Error).message})`)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new SluiceError('CONFIG_UNREADABLE', `${file} line ${i + 1}: must be a JSON object such as {"outcome": "row", "row": {...}}`)
    }
    out.push(parsed as Record<string, unknown>)
  })
  return out
}

/** One line of `--json` output as the JSON text it is printed as. */
export function lineJson(line: DryRunLine): string {
  return JSON.stringify(line)
}

/** Every difference between the output and the expectation, as human sentences; empty when they agree. */
export function compareExpected(actual: readonly DryRunLine[], expected: readonly Record<string, unknown>[]): string[] {
  const differences: string[] = []
  const n = Math.max(actual.length, expected.length)
  for (let i = 0; i < n; i++) {
    const a = actual[i]
    const e = expected[i]
    const label = `line ${i + 1}${a && 'record' in a ? ` (record ${a.record})` : ''}`
    if (a === undefined) {
      differences.push(`${label}: expected ${canonical(e)}, but there is no such output line`)
      continue
    }
    // Re-read through the same parser as the expectation, so both sides hold the same kinds of values.
    const got = parseJson(lineJson(a)) as Record<string, unknown>
    if (e === undefined) {
      differences.push(`${label}: not expected: ${canonical(got)}`)
      continue
    }
    for (const [name, want] of Object.entries(e)) {
      const have = Object.hasOwn(got, name) ? got[name] : undefined
      if (canonical(have) !== canonical(want)) differences.push(`${label}: ${name} expected ${canonical(want)}, got ${have === undefined ? '(absent)' : canonical(have)}`)
    }
  }
  return differences
}

/** JSON text with object members sorted, so that member order never makes a difference. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined'
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object' || isExactNumber(value)) return value
  const obj = value as Record<string, unknown>
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, sortKeys(obj[k])]))
}
