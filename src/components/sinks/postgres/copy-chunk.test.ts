import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CopyChunk } from './copy-chunk.ts'

test('a chunk holds what was written as UTF-8; each take is a Buffer of its own', () => {
  const chunk = new CopyChunk(64)
  chunk.write('a\tb é')
  chunk.byte(0x0a)
  assert.equal(chunk.length, Buffer.byteLength('a\tb é\n'))
  const first = chunk.take()
  assert.equal(chunk.length, 0)
  chunk.write('🦀'.repeat(40)) // longer than the chunk: it grows
  const second = chunk.take()
  assert.equal(first.toString(), 'a\tb é\n', 'the first chunk is not written over by the next')
  assert.equal(second.toString(), '🦀'.repeat(40))
  assert.equal(chunk.take().length, 0, 'an empty take')
})

test('full() says when a text may not fit in the room left (at most 3 bytes per UTF-16 unit)', () => {
  const chunk = new CopyChunk(64)
  assert.equal(chunk.full('x'.repeat(21)), false)
  assert.equal(chunk.full('x'.repeat(22)), true)
  chunk.write('x'.repeat(20)) // 20 bytes, at most 60 assumed: fits without growing
  assert.equal(chunk.full('y'.repeat(14)), false)
  assert.equal(chunk.full('y'.repeat(15)), true)
  chunk.write('y'.repeat(15)) // grows rather than losing bytes
  chunk.byte(0x0a)
  assert.equal(chunk.take().toString(), 'x'.repeat(20) + 'y'.repeat(15) + '\n')
})
