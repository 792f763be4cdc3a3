/**
 * A COPY chunk written in place: lines go straight into a Buffer as UTF-8 (`Buffer#write`, one call
 * per line), instead of being appended to a chunk string that `Buffer.from` then flattens and
 * encodes. The rope of ~100,000 pieces per 1 MiB chunk and its flattening were a fifth of COPY
 * encoding's time and most of its garbage (docs/benchmarks.md, issue 13).
 *
 * Each chunk gets its own Buffer, taken whole by the consumer: the driver may still hold earlier
 * chunks (a socket's write queue, PGlite's Blob of every chunk), so one is never written over.
 */

/** UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_BYTES_PER_UNIT = 3
/** No Buffer yet (after a take): the next write allocates one, so the last take allocates nothing. */
const NONE = Buffer.alloc(0)

export class CopyChunk {
  #buf: Buffer
  #pos = 0
  readonly #capacity: number

  /** `bytes`: the usual chunk size (a longer line gets a larger Buffer of its own). */
  constructor(bytes: number) {
    this.#capacity = Math.max(64, bytes)
    this.#buf = Buffer.allocUnsafe(this.#capacity)
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos
  }

  /** True when `text` may not fit in the room left (then take the chunk first, or it grows). */
  full(text: string): boolean {
    return this.#pos + text.length * MAX_BYTES_PER_UNIT > this.#buf.length
  }

  /** Appends `text` as UTF-8. */
  write(text: string): void {
    if (this.full(text)) this.#grow(text.length * MAX_BYTES_PER_UNIT)
    this.#pos += this.#buf.write(text, this.#pos)
  }

  /** True when `bytes` more may not fit in the room left. */
  lacks(bytes: number): boolean {
    return this.#pos + bytes > this.#buf.length
  }

  /** Makes room for `bytes` more (the writes that follow then never grow the Buffer). */
  reserve(bytes: number): void {
    if (this.lacks(bytes)) this.#grow(bytes)
  }

  /** Appends bytes [start, end) of `src`; the room must have been reserved. */
  copy(src: Uint8Array, start: number, end: number): void {
    const buf = this.#buf
    let p = this.#pos
    // A native copy costs more than a loop for the short values most fields have.
    if (end - start > 32) {
      buf.set(src.subarray(start, end), p)
      p += end - start
    } else for (let i = start; i < end; i++) buf[p++] = src[i] as number
    this.#pos = p
  }

  /** Appends ASCII `text` (an ISO time); the room must have been reserved. */
  ascii(text: string): void {
    this.#pos += this.#buf.write(text, this.#pos, 'latin1')
  }

  /** Drops what was written after `length` (a line given up); returns false for the caller to pass on. */
  rewind(length: number): false {
    this.#pos = length
    return false
  }

  /** Appends one ASCII byte (a separator). */
  byte(b: number): void {
    if (this.#pos >= this.#buf.length) this.#grow(1)
    this.#buf[this.#pos++] = b
  }

  /** The bytes written, as a Buffer of their own; the next write starts a fresh Buffer. */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#pos)
    this.#buf = NONE
    this.#pos = 0
    return out
  }

  #grow(more: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.#capacity, this.#pos + more, this.#buf.length * 2))
    this.#buf.copy(next, 0, 0, this.#pos)
    this.#buf = next
  }
}
