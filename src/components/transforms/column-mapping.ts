/**
 * The load's `columnMapping` (table column -> record field or field path) as the last row step:
 * every listed column is set from its path, so nested JSON lands in flat columns and the sink keeps
 * mapping fields to columns by name. A path that does not resolve leaves the column without a value
 * (NULL or its default), as a missing field does, even when the record has a field of the column's
 * own name: the mapping says where the column comes from. Columns not listed are left as they are.
 */
import { fieldGetter } from '../../api/field-path.ts'
import { type RowValues, setField } from '../../api/record.ts'
import type { RowTransform } from './index.ts'

/** Compiles a column mapping (its paths are parsed once, here). */
export function columnMappingTransform(mapping: Readonly<Record<string, string>>): RowTransform {
  const reads = Object.entries(mapping).map(([column, path]) => [column, fieldGetter(path)] as const)
  return (values) => {
    const out: RowValues = { ...values }
    for (const [column, get] of reads) {
      const v = get(values)
      if (v !== undefined) setField(out, column, v)
      else if (Object.hasOwn(out, column)) delete out[column]
    }
    return out
  }
}
