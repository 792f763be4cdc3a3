/**
 * `select`: keeps only the listed columns, in the listed order. A listed column the row lacks
 * stays absent (the sink then writes its default or null), as a JSON field that is not there.
 * A field path (`customer.name`) keeps the nested value as a top-level field named by the path's
 * text, which later steps and the sink find by that name (the own-key rule of api/field-path.ts).
 */
import { fieldGetter } from '../../../api/field-path.ts'
import { type RowValues, setField } from '../../../api/record.ts'
import type { TransformStep } from '../config.ts'

export type SelectStep = Extract<TransformStep, { type: 'select' }>

/** Compiles a select step. */
export function selectTransform(step: SelectStep): (values: RowValues) => RowValues {
  const columns = step.columns.map((c) => [c, fieldGetter(c)] as const)
  return (values) => {
    const out: RowValues = {}
    for (const [c, get] of columns) {
      const v = get(values)
      if (v !== undefined) setField(out, c, v)
    }
    return out
  }
}
