import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isExactNumber, parseJson } from './exact-number.ts'
import { compileRecordSchema } from './record-schema.ts'

const EXAMPLE = '{"id": 9007199254740993, "amount": 12345678901234567890.12345678901234567890, "code": 12345678901234567890, "nested": {"n": [9007199254740995]}}'

test('exact numbers pass JSON Schema checks as numbers and come out exact', () => {
  const validate = compileRecordSchema(
    {
      type: 'object',
      required: ['id', 'amount'],
      properties: {
        id: { type: 'integer', minimum: 1 },
        amount: { type: 'number' },
        code: { type: 'string' },
        nested: { type: 'object', properties: { n: { type: 'array', items: { type: 'integer' } } } },
      },
    },
    's',
  )
  const values = parseJson(EXAMPLE) as Record<string, unknown>
  assert.equal(validate(values), null)
  assert.ok(isExactNumber(values.id) && values.id.rawJSON === '9007199254740993')
  assert.ok(isExactNumber(values.amount) && values.amount.rawJSON === '12345678901234567890.12345678901234567890')
  // Coerced to a string by the schema: the exact digits, not the double's.
  assert.equal(values.code, '12345678901234567890')
  assert.equal(JSON.stringify(values.nested), '{"n":[9007199254740995]}')
})

test('a violation is still found, and the record keeps its exact numbers', () => {
  const validate = compileRecordSchema({ type: 'object', properties: { id: { type: 'integer', maximum: 100 } } }, 's')
  const values = parseJson(EXAMPLE) as Record<string, unknown>
  assert.equal(validate(values), 'id must be <= 100')
  assert.ok(isExactNumber(values.id))
})
