/**
 * `select`: keeps only the listed columns, in the listed order. A listed column the row lacks
 * stays absent (the sink then writes its default or null), as a JSON field that is not there.
 */
import { type RowValues, setField } from '../../../api/record.ts'
import type { TransformStep } from '../config.ts'

export type SelectStep = Extract<TransformStep, { type: 'select' }>

/** Compiles a select step. */
export function selectTransform(step: SelectStep): (values: RowValues) => RowValues {
  const columns = [...step.columns]
  return (values) => {
    const out: RowValues = {}
    for (const c of columns) if (Object.hasOwn(values, c)) setField(out, c, values[c])
    return out
  }
}
