/**
 * A row whose values are parsed only when something reads them (issue 13). The record path makes
 * one when nothing on it reads a record's values (flat-json.ts): a sink that copies the fields'
 * bytes never parses the record, and any other reader gets the values the decode path would have
 * given, parsed at its first read.
 */
import type { FlatFields, Row, RowValues, SourceRecord } from '../api/record.ts'
import { SluiceError } from '../errors.ts'
import { decodeValues } from './decode.ts'

export class FlatRow implements Row {
  readonly source: SourceRecord
  readonly flat: FlatFields
  #values: RowValues | undefined

  constructor(source: SourceRecord, flat: FlatFields) {
    this.source = source
    this.flat = flat
  }

  get values(): RowValues {
    if (this.#values !== undefined) return this.#values
    const decoded = decodeValues(this.source)
    // scanFlat validated the value as a JSON object; a decode that disagrees is a bug, never a record to drop.
    if (typeof decoded === 'string') throw new SluiceError('INTERNAL', `record ${this.source.partition}@${this.source.offset} passed the flat scan but does not decode: ${decoded}`)
    this.#values = decoded
    return decoded
  }
}
