/**
 * A generated record. The engine reads `fields` and never parses `value`, so the JSON bytes are
 * made only when something asks for them (a dead letter): encoding every record would cost more
 * than generating it. The getter lives on the prototype, so code that copies a record with
 * `{ ...record }` must copy `value` explicitly.
 */
import type { SourceRecord } from '../../../api/record.ts'

const NO_HEADERS: SourceRecord['headers'] = Object.freeze([])

/** A SourceRecord whose value is the JSON of its fields, made on first access. */
export class GeneratedRecord implements SourceRecord {
  readonly partition: string
  readonly topic: string
  readonly partitionNumber: number
  readonly offset: string
  readonly key: null = null
  readonly timestamp: number
  readonly headers: SourceRecord['headers'] = NO_HEADERS
  readonly fields: Readonly<Record<string, unknown>>
  #value: Buffer | undefined

  constructor(partition: string, topic: string, partitionNumber: number, offset: string, timestamp: number, fields: Readonly<Record<string, unknown>>) {
    this.partition = partition
    this.topic = topic
    this.partitionNumber = partitionNumber
    this.offset = offset
    this.timestamp = timestamp
    this.fields = fields
  }

  /** The fields as JSON (the same text every time: the fields are never changed). */
  get value(): Buffer {
    this.#value ??= Buffer.from(JSON.stringify(this.fields))
    return this.#value
  }
}
