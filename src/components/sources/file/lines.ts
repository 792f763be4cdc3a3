/**
 * Splits a byte stream into lines without decoding it: NDJSON values stay the exact bytes of the
 * file (the engine decodes them, and the DLQ keeps the original), and no string round trip costs
 * time. Lines end at `\n`; a trailing `\r` is dropped, so CRLF files read the same as LF files.
 */

/** One physical line of a file, 1-based. */
export interface Line {
  readonly number: number
  readonly bytes: Buffer
}

const NEWLINE = 0x0a
const RETURN = 0x0d

/**
 * Yields every line of `chunks` (including blank ones, so that line numbers stay physical), as
 * one array per input chunk: one await per chunk rather than per line.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Line[]> {
  let carry: Buffer | null = null
  let number = 0
  let first = true
  for await (const raw of chunks) {
    let chunk: Buffer = raw
    if (first) {
      first = false
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3)
    }
    const lines: Line[] = []
    let start = 0
    let end = chunk.indexOf(NEWLINE, start)
    while (end !== -1) {
      let line: Buffer = chunk.subarray(start, end)
      if (carry !== null) {
        line = Buffer.concat([carry, line])
        carry = null
      }
      number++
      lines.push({ number, bytes: trimReturn(line) })
      start = end + 1
      end = chunk.indexOf(NEWLINE, start)
    }
    if (start < chunk.length) {
      // Copy the tail: keeping a view would pin the whole chunk while it waits for its newline.
      const tail = Buffer.from(chunk.subarray(start))
      carry = carry === null ? tail : Buffer.concat([carry, tail])
    }
    if (lines.length > 0) yield lines
  }
  if (carry !== null && carry.length > 0) {
    number++
    yield [{ number, bytes: trimReturn(carry) }]
  }
}

/** True for a line holding only spaces, tabs or nothing. */
export function isBlank(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]
    if (b !== 0x20 && b !== 0x09) return false
  }
  return true
}

function trimReturn(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === RETURN ? line.subarray(0, line.length - 1) : line
}
