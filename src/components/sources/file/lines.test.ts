import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isBlank, splitLines } from './lines.ts'

async function lines(...chunks: string[]): Promise<[number, string][]> {
  async function* source(): AsyncGenerator<Buffer> {
    for (const c of chunks) yield Buffer.from(c)
  }
  const out: [number, string][] = []
  for await (const batch of splitLines(source())) for (const line of batch) out.push([line.number, line.bytes.toString()])
  return out
}

test('splits on LF and CRLF, keeps blank lines numbered', async () => {
  assert.deepEqual(await lines('a\r\n\nb\n'), [
    [1, 'a'],
    [2, ''],
    [3, 'b'],
  ])
})

test('joins lines split across chunks and keeps a last line without newline', async () => {
  assert.deepEqual(await lines('{"a":', '1}\n{"b"', ':2', '}\nlast'), [
    [1, '{"a":1}'],
    [2, '{"b":2}'],
    [3, 'last'],
  ])
})

test('drops a UTF-8 byte order mark at the start', async () => {
  assert.deepEqual(await lines('\uFEFFx\n'), [[1, 'x']])
})

test('a CR at a chunk boundary before the LF is dropped', async () => {
  assert.deepEqual(await lines('a\r', '\nb'), [
    [1, 'a'],
    [2, 'b'],
  ])
})

test('isBlank', () => {
  assert.equal(isBlank(Buffer.from(' \t ')), true)
  assert.equal(isBlank(Buffer.from('')), true)
  assert.equal(isBlank(Buffer.from(' x')), false)
})
