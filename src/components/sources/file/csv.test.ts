import { test } from 'node:test'
import assert from 'node:assert/strict'
import { csvRecords, headerNames, nameFields, parseCsvRecord } from './csv.ts'
import { splitLines } from './lines.ts'

async function records(text: string): Promise<[number, string][]> {
  async function* source(): AsyncGenerator<Buffer> {
    // one byte at a time: every boundary is exercised
    for (let i = 0; i < text.length; i++) yield Buffer.from(text[i] as string)
  }
  const out: [number, string][] = []
  for await (const batch of csvRecords(splitLines(source()))) for (const r of batch) out.push([r.line, r.bytes.toString()])
  return out
}

test('plain fields; unquoted empty is null, quoted empty is the empty string', () => {
  assert.deepEqual(parseCsvRecord('a,,c', ','), ['a', null, 'c'])
  assert.deepEqual(parseCsvRecord('a,"",c', ','), ['a', '', 'c'])
  assert.deepEqual(parseCsvRecord('', ','), [null])
  assert.deepEqual(parseCsvRecord('a,', ','), ['a', null])
})

test('RFC 4180 quoting: delimiters, doubled quotes, newlines inside quotes', () => {
  assert.deepEqual(parseCsvRecord('"a,b","say ""hi""",3', ','), ['a,b', 'say "hi"', '3'])
  assert.deepEqual(parseCsvRecord('"line1\nline2",x', ','), ['line1\nline2', 'x'])
  assert.deepEqual(parseCsvRecord('x,"last"', ','), ['x', 'last'])
  assert.deepEqual(parseCsvRecord('"unterminated', ','), ['unterminated'])
})

test('other delimiters', () => {
  assert.deepEqual(parseCsvRecord('a;"b;c";d', ';'), ['a', 'b;c', 'd'])
  assert.deepEqual(parseCsvRecord('a\tb', '\t'), ['a', 'b'])
})

test('records span lines while a quote is open', async () => {
  assert.deepEqual(await records('h1,h2\r\n1,"multi\r\nline"\n2,"x ""y"""\n'), [
    [1, 'h1,h2'],
    [2, '1,"multi\nline"'],
    [4, '2,"x ""y"""'],
  ])
})

test('header names and field naming', () => {
  const header = headerNames(['id', null, ''])
  assert.deepEqual(header, ['id', '_c1', '_c2'])
  assert.deepEqual(nameFields(header, ['1', 'a', null, 'extra']), { id: '1', _c1: 'a', _c2: null, _c3: 'extra' })
  assert.deepEqual(nameFields(header, ['1']), { id: '1' })
})
