/**
 * `rename`: renames columns (old name -> new name); other columns keep their names. A renamed
 * column replaces a column that already had the new name, and swaps (a -> b, b -> a) work.
 * An old name that is a field path (`customer.address.city -> city`) copies the nested value to the
 * new name and leaves the object it is in as it is (a step never changes the objects it is given);
 * a top-level field named exactly like the path is renamed as any field (api/field-path.ts).
 */
import { fieldGetter } from '../../../api/field-path.ts'
import { type RowValues, setField } from '../../../api/record.ts'
import type { TransformStep } from '../config.ts'

export type RenameStep = Extract<TransformStep, { type: 'rename' }>

/** Compiles a rename step. */
export function renameTransform(step: RenameStep): (values: RowValues) => RowValues {
  // A Map, not the mapping object: a column named "constructor" must not find Object's.
  const mapping = new Map(Object.entries(step.mapping))
  const reads = [...mapping].map(([from, to]) => [to, fieldGetter(from)] as const)
  return (values) => {
    const out: RowValues = {}
    for (const k of Object.keys(values)) if (!mapping.has(k)) setField(out, k, values[k])
    for (const [to, get] of reads) {
      const v = get(values)
      if (v !== undefined) setField(out, to, v)
    }
    return out
  }
}
