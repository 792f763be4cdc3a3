/**
 * `rename`: renames columns (old name -> new name); other columns keep their names. A renamed
 * column replaces a column that already had the new name, and swaps (a -> b, b -> a) work.
 */
import { type RowValues, setField } from '../../../api/record.ts'
import type { TransformStep } from '../config.ts'

export type RenameStep = Extract<TransformStep, { type: 'rename' }>

/** Compiles a rename step. */
export function renameTransform(step: RenameStep): (values: RowValues) => RowValues {
  // A Map, not the mapping object: a column named "constructor" must not find Object's.
  const mapping = new Map(Object.entries(step.mapping))
  return (values) => {
    const out: RowValues = {}
    for (const k of Object.keys(values)) if (!mapping.has(k)) setField(out, k, values[k])
    for (const [from, to] of mapping) if (Object.hasOwn(values, from)) setField(out, to, values[from])
    return out
  }
}
