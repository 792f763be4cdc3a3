/**
 * The transform steps (`transform` in the pipeline file), compiled once into one function applied
 * to every decoded row: it returns the new values, or null when a filter drops the row (the engine
 * counts it as filtered). A step that cannot convert a value throws RECORD_TRANSFORM for that row.
 * Steps never change the object they are given and are deterministic, so a re-run batch
 * transforms identically. The aggregate step is not a row step: `splitSteps` hands it to the
 * engine, which applies it to a whole batch (src/engine/aggregate.ts).
 */
import { isPlainName, rootField } from '../../api/field-path.ts'
import type { RowValues } from '../../api/record.ts'
import { SluiceError } from '../../errors.ts'
import { castTransform } from './cast/transform.ts'
import { columnMappingTransform } from './column-mapping.ts'
import type { TransformStep } from './config.ts'
import { filterTransform } from './filter/transform.ts'
import { renameTransform } from './rename/transform.ts'
import { selectTransform } from './select/transform.ts'

/** One row in, the transformed row (or null: filtered out) out. */
export type RowTransform = (values: RowValues) => RowValues | null

/** Compiles one step. */
export function compileStep(step: TransformStep): RowTransform {
  switch (step.type) {
    case 'select':
      return selectTransform(step)
    case 'rename':
      return renameTransform(step)
    case 'cast':
      return castTransform(step)
    case 'filter': {
      const keep = filterTransform(step)
      return (values) => (keep(values) ? values : null)
    }
    case 'aggregate':
    case 'deduplicate':
      throw new SluiceError('INTERNAL', `the ${step.type} step applies to a batch, not to a row: split it off with splitSteps`)
  }
}

/** The aggregate step of a pipeline (validated to be the last one). */
export type AggregateStep = Extract<TransformStep, { type: 'aggregate' }>

/** The deduplicate step of a pipeline (validated to be the last one), with its place among the steps. */
export type DeduplicateStep = Extract<TransformStep, { type: 'deduplicate' }>

/** Splits the steps into the per-row ones and the trailing aggregate or deduplicate step (or null). */
export function splitSteps(steps: readonly TransformStep[]): { rowSteps: TransformStep[]; aggregate: AggregateStep | null; deduplicate: { step: DeduplicateStep; at: number } | null } {
  const last = steps[steps.length - 1]
  if (last?.type === 'aggregate') return { rowSteps: steps.slice(0, -1), aggregate: last, deduplicate: null }
  if (last?.type === 'deduplicate') return { rowSteps: steps.slice(0, -1), aggregate: null, deduplicate: { step: last, at: steps.length - 1 } }
  return { rowSteps: [...steps], aggregate: null, deduplicate: null }
}

/**
 * Compiles the steps, in order, into one function; no steps is the identity. The load's
 * `columnMapping`, when given, runs after them (column-mapping.ts).
 */
export function composeTransforms(steps: readonly TransformStep[], columnMapping?: Readonly<Record<string, string>>): RowTransform {
  const compiled = steps.map(compileStep)
  if (columnMapping !== undefined) compiled.push(columnMappingTransform(columnMapping))
  if (compiled.length === 1) return compiled[0] as RowTransform
  return (values) => {
    let current: RowValues | null = values
    for (const step of compiled) {
      current = step(current)
      if (current === null) return null
    }
    return current
  }
}

/**
 * The field names the steps read (select, rename sources, filter, cast, aggregate group, input and
 * window columns), for a path both its text (a top-level field of that name wins) and the field it
 * starts from: the engine adds a record metadata field only when something reads it.
 */
export function fieldsRead(steps: readonly TransformStep[]): string[] {
  return withRoots(namesRead(steps))
}

/** Each name, and after a path the top-level field it starts from (`headers.trace` reads `headers`). */
export function withRoots(names: readonly string[]): string[] {
  return names.flatMap((n) => (isPlainName(n) ? [n] : [n, rootField(n)]))
}

function namesRead(steps: readonly TransformStep[]): string[] {
  const out: string[] = []
  for (const step of steps) {
    switch (step.type) {
      case 'select':
        out.push(...step.columns)
        break
      case 'rename':
        out.push(...Object.keys(step.mapping))
        break
      case 'filter':
        out.push(step.field)
        break
      case 'cast':
        out.push(...Object.keys(step.columns))
        break
      case 'aggregate':
        out.push(...step.groupBy, ...Object.values(step.aggregations).flatMap((a) => (a.field === undefined ? [] : [a.field])))
        if (step.window) out.push(step.window.column)
        if (step.session) out.push(step.session.column)
        break
      case 'deduplicate':
        out.push(...step.keys)
        break
    }
  }
  return out
}

/** Applies the steps to one row (compiles them each call: for tests and one-off use). */
export function applyTransforms(steps: readonly TransformStep[], values: RowValues): RowValues | null {
  return composeTransforms(steps)(values)
}
