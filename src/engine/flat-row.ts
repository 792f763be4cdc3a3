/**
 * A row whose values are parsed only when something reads them (issue 13). The record path makes
 * one when nothing on it reads a record's values (flat-json.ts): a sink that copies the fields'
 * bytes never parses the record, and any other reader gets the values the decode path would have
 * given, parsed at its first read.
 */
import type { FlatFields, Row, RowValues, SourceRecord } from '../api/record.ts'
import type { FlatScan } from './flat-json.ts'
import { SluiceError } from '../errors.ts'
import { decodeValues } from './decode.ts'

/** Batches a pipeline skips the scan for after one in which most rows left unparsed were parsed anyway. */
const SKIP_BATCHES = 16
/** Rows scanned before the share of parsed ones says anything. */
const SAMPLE = 1000

/**
 * Whether the rows left unparsed stay unparsed. When the sink parses most of them anyway (a
 * timestamp column fed fractional epoch numbers, a json column fed objects), the scan is only a
 * cost: the next batches skip it, and one batch in SKIP_BATCHES + 1 tries again, so a pipeline
 * whose data changes finds the fast path back. Only the speed depends on it, never a value.
 */
export class FlatUse {
  scanned = 0
  parsed = 0
  #skip = 0

  /** Called as a batch's record path starts: true when this batch scans. */
  begin(): boolean {
    if (this.#skip > 0) {
      this.#skip--
      return false
    }
    if (this.scanned < SAMPLE) return true
    const mostlyParsed = this.parsed * 2 > this.scanned
    this.scanned = 0
    this.parsed = 0
    if (!mostlyParsed) return true
    this.#skip = SKIP_BATCHES - 1 // this batch is the first skipped
    return false
  }
}

/** The row holds its spans itself (it is its own FlatFields): one object per record, not two. */
export class FlatRow implements Row, FlatFields {
  readonly source: SourceRecord
  readonly bytes: Buffer
  readonly spans: Int32Array
  readonly base: number
  readonly count: number
  readonly asciiKeys: boolean
  readonly #use: FlatUse | null
  #values: RowValues | undefined

  /** `scan`: the spans of `source.value` (scanInto's result, copied here). */
  constructor(source: SourceRecord, scan: Readonly<FlatScan>, use: FlatUse | null = null) {
    this.source = source
    this.bytes = source.value as Buffer
    this.spans = scan.spans
    this.base = scan.base
    this.count = scan.count
    this.asciiKeys = scan.asciiKeys
    this.#use = use
    if (use !== null) use.scanned++
  }

  get flat(): FlatFields {
    return this
  }

  get values(): RowValues {
    if (this.#values !== undefined) return this.#values
    const decoded = decodeValues(this.source)
    // The scan (scanInto) validated the value as a JSON object; a decode that disagrees is a bug, never a record to drop.
    if (typeof decoded === 'string') throw new SluiceError('INTERNAL', `record ${this.source.partition}@${this.source.offset} passed the flat scan but does not decode: ${decoded}`)
    if (this.#use !== null) this.#use.parsed++
    this.#values = decoded
    return decoded
  }
}
