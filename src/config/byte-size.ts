/**
 * Byte sizes as a pipeline file writes them: a whole number of bytes (JSON number or numeric
 * string), or a number with a unit, `"64 MiB"`, `"512k"`, `"1.5 GB"`. The grammar is
 *
 *   size := number [unit]        number := digits ["." digits]     (spaces allowed around the unit)
 *   unit := b | k | kb | kib | m | mb | mib | g | gb | gib          (any letter case)
 *
 * Every unit is a power of 1024, whether written KB or KiB: that is Spark's convention for its byte
 * options (`spark.sql.files.maxPartitionBytes = "128m"`, Delta's maxBytesPerTrigger = "1g"), and a
 * cap on memory is not the place for a decimal/binary distinction nobody checks. The result is a
 * whole number of bytes (a fractional result is rounded down), at least 1.
 */

const unitBytes: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
}

const sizeRegex = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)?\s*$/

/** JSON Schema pattern of byte-size strings (units in any letter case). */
export const byteSizePattern = '^\\s*\\d+(\\.\\d+)?\\s*([bB]|[kKmMgG]([iI]?[bB])?)?\\s*$'

/** Human description of the accepted forms, used in error messages and docs. */
export const byteSizeHelp = 'a size such as "64 MiB", "512 KiB", "1g" (units b, k/KB/KiB, m/MB/MiB, g/GB/GiB, all powers of 1024) or a number of bytes'

/** Parses a byte size, or returns an error message saying what is allowed. */
export function parseByteSize(input: string | number): { ok: true; bytes: number } | { ok: false; message: string } {
  let bytes: number
  if (typeof input === 'number') {
    bytes = input
  } else {
    const m = sizeRegex.exec(input)
    if (m === null) return { ok: false, message: `must be ${byteSizeHelp}` }
    const factor = m[2] === undefined ? 1 : unitBytes[m[2].toLowerCase()]
    if (factor === undefined) return { ok: false, message: `unknown unit "${m[2] ?? ''}"; use b, KiB, MiB or GiB (or k, m, g)` }
    bytes = Math.floor(Number(m[1]) * factor)
  }
  if (!Number.isSafeInteger(bytes) || bytes < 1) return { ok: false, message: `must be ${byteSizeHelp}, at least 1 byte` }
  return { ok: true, bytes }
}

/** Short human text of a byte count for logs and docs: "64 MiB", "1.5 KiB", "17 B". */
export function formatByteSize(bytes: number): string {
  for (const [factor, unit] of [[1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB']] as const) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(1))} ${unit}`
  }
  return `${bytes} B`
}
