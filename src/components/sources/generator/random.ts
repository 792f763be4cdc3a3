/**
 * A small counter-based random source: record i of partition p is drawn from a generator seeded by
 * a hash of (seed, p, i), so any record can be produced on its own, in any order, and re-reading a
 * range gives identical records. mulberry32 is fast and good enough for synthetic data.
 */

/** murmur3's 32-bit finaliser: spreads every input bit over the output. */
function mix32(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

const TWO_32 = 4294967296

/** A reseedable mulberry32 generator (one instance is reused for every record). */
export class Rng {
  #state = 0

  /** Positions the generator at record `index` of `partition`. */
  reseed(seed: number, partition: number, index: number): void {
    let h = mix32((seed | 0) ^ 0x9e3779b9)
    h = mix32(h ^ Math.imul(partition + 1, 0x27d4eb2f))
    h = mix32(h ^ (index >>> 0))
    this.#state = mix32(h ^ Math.floor(index / TWO_32))
  }

  /** Next 32 random bits as an unsigned integer. */
  next(): number {
    const a = (this.#state = (this.#state + 0x6d2b79f5) | 0)
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return (t ^ (t >>> 14)) >>> 0
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / TWO_32
  }
}
