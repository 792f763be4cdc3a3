/**
 * Makes @platformatic/kafka decode record batches from one contiguous buffer.
 *
 * The client keeps a response as a list of socket chunks (a DynamicBuffer, ~64 KiB each) and
 * parses it in place; every read (`readInt8`, `readVarInt`, ...) first finds its chunk by walking
 * the list from the first chunk. Decoding a response of C chunks therefore costs O(reads x C): a
 * fetch of 8 MiB (~130 chunks) spent 20 % of the CPU of a run in that walk, against 3 % at 1 MiB
 * (docs/benchmarks.md, node --cpu-prof). Every Fetch version parses the records of each partition
 * through `Reader.from(responseBuffer.subarray(...))`, and compressed batches through
 * `Reader.from(decompressed)`. Wrapping `Reader.from` so that a DynamicBuffer of several chunks
 * is first joined into one Buffer (one memcpy of the bytes, which is what the walk cost per read)
 * makes every later read O(1), whatever fetch.max.bytes is; the bytes are the same, so every
 * codec, the CRC-free parse and the transaction-marker handling of the library are unchanged.
 * Readers never write, so giving them a copy changes nothing else; values decoded from it are
 * views of the joined buffer, which lives as long as its records, as the chunks did.
 *
 * This is the small version of a change that belongs upstream (a chunk cursor in DynamicBuffer's
 * lookup, or this same join in Reader.from), done at run time because a patch applied at install
 * would not reach users who install Sluice as a package. The dependency is pinned to an exact
 * version; contiguous-reads.test.ts fails if a new version no longer goes through Reader.from.
 */
import { Reader, Writer } from '@platformatic/kafka'

type DynamicBuffer = Reader['buffer']
type FromInput = Parameters<typeof Reader.from>[0]

let installed = false

/** True for a DynamicBuffer held in more than one chunk (the only input the wrapper changes; a Writer passes as it is). */
function isChunked(input: FromInput): input is DynamicBuffer {
  if (Buffer.isBuffer(input) || Writer.isWriter(input)) return false
  const chunks = (input as Partial<DynamicBuffer>).buffers
  return Array.isArray(chunks) && chunks.length > 1
}

/** Installs the wrapper once per process (idempotent). */
export function useContiguousReads(): void {
  if (installed) return
  installed = true
  const from = Reader.from.bind(Reader)
  Reader.from = (input: FromInput): Reader => from(isChunked(input) ? input.buffer : input)
}
