/**
 * Compiles the generator's field spec into one function that fills a record's fields, drawing
 * from the record's random generator in declaration order.
 */
import { isoFromMs } from '../../../iso-time.ts'
import type { GeneratorField } from './config.ts'
import type { Rng } from './random.ts'

/** Where a record sits: partition, index within it, and its global sequence number. */
export interface RecordSlot {
  readonly partition: number
  readonly index: number
  readonly sequence: number
  /** The record's timestamp before jitter, epoch ms. */
  readonly timeMs: number
}

/** Fills `out` with the record's fields. */
export type RecordWriter = (rng: Rng, slot: RecordSlot, out: Record<string, unknown>) => void

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** Every two-character string over ALPHABET. */
const PAIRS: string[] = Array.from({ length: 62 * 62 }, (_, i) => (ALPHABET[i % 62] as string) + (ALPHABET[Math.floor(i / 62)] as string))
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Builds the writer for a field spec, fields in declaration order. */
export function compileFields(fields: Readonly<Record<string, GeneratorField>>): RecordWriter {
  const writers = Object.entries(fields).map(([name, spec]) => fieldWriter(name, spec))
  return (rng, slot, out) => {
    for (const write of writers) write(rng, slot, out)
  }
}

function fieldWriter(name: string, spec: GeneratorField): RecordWriter {
  switch (spec.type) {
    case 'sequence':
      return (_rng, slot, out) => {
        out[name] = slot.sequence
      }
    case 'int': {
      const span = spec.max - spec.min + 1
      return (rng, _slot, out) => {
        out[name] = spec.min + Math.floor(rng.float() * span)
      }
    }
    case 'float': {
      const span = spec.max - spec.min
      return (rng, _slot, out) => {
        out[name] = spec.min + rng.float() * span
      }
    }
    case 'choice': {
      const values = spec.values
      return (rng, _slot, out) => {
        const k = Math.floor(rng.float() * values.length)
        out[name] = values[k]
      }
    }
    case 'timestamp': {
      const jitter = spec.jitterMs ?? 0
      return (rng, slot, out) => {
        // Jitter moves the event into the past only: the record arrives late, as real data does.
        const ms = jitter > 0 ? slot.timeMs - Math.floor(rng.float() * (jitter + 1)) : slot.timeMs
        out[name] = isoFromMs(ms)
      }
    }
    case 'uuid':
      return (rng, _slot, out) => {
        out[name] = uuid(rng)
      }
    case 'string': {
      const length = spec.length
      return (rng, _slot, out) => {
        let v = ''
        while (v.length < length) {
          // 3844^2 < 2^32: two character pairs per draw.
          const bits = rng.next()
          v += PAIRS[bits % 3844] as string
          v += PAIRS[Math.floor(bits / 3844) % 3844] as string
        }
        if (v.length > length) v = v.slice(0, length)
        out[name] = v
      }
    }
  }
}


/** A version-4 UUID from 128 seeded bits. */
function uuid(rng: Rng): string {
  const a = rng.next()
  const b = rng.next()
  const c = rng.next()
  const d = rng.next()
  const h = (x: number, shift: number): string => HEX[(x >>> shift) & 0xff] as string
  return (
    h(a, 24) + h(a, 16) + h(a, 8) + h(a, 0) + '-' +
    h(b, 24) + h(b, 16) + '-' +
    HEX[0x40 | ((b >>> 8) & 0x0f)] + h(b, 0) + '-' +
    HEX[0x80 | ((c >>> 24) & 0x3f)] + h(c, 16) + '-' +
    h(c, 8) + h(c, 0) + h(d, 24) + h(d, 16) + h(d, 8) + h(d, 0)
  )
}
