/**
 * `sluice test` as the README runs it (bin/sluice.js): a malformed, a filtered and a late record,
 * --json, --expect passing and failing (exit 1 with the differences), and reading the source
 * without --input. The sink points at a closed port: the command never connects to it.
 */
import assert from 'node:assert/strict'
import { mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { runSluice, writePipeline } from '../../../test/helpers/cli.ts'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const unreachableSink = { sinkType: 'postgresql', table: 'orders', schemaName: 'orders-table', connectionParams: { host: '127.0.0.1', port: '1', database: 'none', user: 'nobody' } }

async function setup(extract: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ file: string; dir: string }> {
  const p = await writePipeline((dir: string) => ({
    pipelineId: 'orders-test',
    extract: { schemaName: 'order', ...extract },
    load: unreachableSink,
    transform: [{ type: 'filter', field: 'amount', op: 'gt', value: 0 }],
    streamingConfigJson: { checkpointLocation: join(dir, 'cp'), queryName: 'q', watermark: { eventTimeColumn: 'at', delayThreshold: '10 minutes' }, lateDataConfig: { strategy: 'sendtodlq' } },
    errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'orders_dlq' } },
    ...extra,
  }))
  dirs.push(p.dir)
  await mkdir(join(p.dir, 'schemas'))
  await writeFile(join(p.dir, 'schemas', 'order.json'), JSON.stringify({ type: 'object', required: ['id'], properties: { id: { type: 'integer' }, amount: { type: 'number' } } }))
  await writeFile(join(p.dir, 'schemas', 'orders-table.json'), JSON.stringify({ columns: { id: 'bigint', amount: 'numeric', at: 'timestamptz' }, primaryKey: ['id'] }))
  return p
}

const samples = [
  '{"id": 1, "amount": 9.5, "at": "2026-11-25T10:00:00Z"}',
  '{"id": 2, "amount": ',
  '{"id": 3, "amount": 0, "at": "2026-11-25T10:00:00Z"}',
  '{"id": 4, "amount": 1, "at": "2026-11-25T09:00:00Z"}',
]

test('sluice test --input: what each record becomes, human and --json, and --expect for CI', async () => {
  const { file, dir } = await setup({ sourceType: 'kafka', topic: 'orders', connectionParams: { 'kafka.bootstrap.servers': '127.0.0.1:1' } })
  const input = join(dir, 'samples.ndjson')
  await writeFile(input, `${samples.join('\n')}\n`)
  const watermark = ['--watermark', '2026-11-25T09:30:00Z']

  const human = await runSluice(['test', file, '--input', input, ...watermark])
  assert.equal(human.code, 0, human.stderr)
  assert.match(human.stdout, /^#1 orders\/0@0: row \{"id":1,"amount":9\.5,"at":"2026-11-25T10:00:00Z"\}$/m)
  assert.match(human.stdout, /^#2 orders\/0@1: dead letter RECORD_DECODE: value is not valid JSON.* -> table orders_dlq$/m)
  assert.match(human.stdout, /^#3 orders\/0@2: filtered by a step$/m)
  assert.match(human.stdout, /^#4 orders\/0@3: late event time 2026-11-25T09:00:00\.000Z is at or below the watermark 2026-11-25T09:30:00\.000Z -> table orders_dlq$/m)
  assert.match(human.stdout, /orders-test: 4 record\(s\) from .*samples\.ndjson: 1 row, 1 dead letter, 1 filtered, 1 late \(nothing written\)/)

  const json = await runSluice(['test', file, '--input', input, ...watermark, '--json'])
  assert.equal(json.code, 0, json.stderr)
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; code?: string })
  assert.deepEqual(lines.map((l) => l.outcome), ['row', 'dead', 'filtered', 'late'])

  // The --json output is a valid expectation of itself; a trimmed one (code only) passes too.
  const expected = join(dir, 'expected.ndjson')
  await writeFile(expected, json.stdout.replace(/"reason":"[^"]*",/, ''))
  const pass = await runSluice(['test', file, '--input', input, ...watermark, '--expect', expected])
  assert.equal(pass.code, 0, pass.stderr)
  assert.match(pass.stderr, /expected\.ndjson: as expected \(4 lines\)/)

  // Without the watermark record 4 is a row: the expectation says late, so exit 1 with the difference.
  const fail = await runSluice(['test', file, '--input', input, '--expect', expected])
  assert.equal(fail.code, 1, fail.stdout + fail.stderr)
  assert.match(fail.stderr, /expected\.ndjson: \d+ difference\(s\)/)
  assert.match(fail.stderr, /line 4 \(record 4\): outcome expected "late", got "row"/)

  // Batches of one: the first record's event time sets the watermark (10:00 - 10 min) for the next ones.
  const batches = await runSluice(['test', file, '--input', input, '--batch-size', '1', '--json'])
  assert.deepEqual(batches.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { outcome: string }).outcome), ['row', 'dead', 'filtered', 'late'])

  assert.equal((await runSluice(['test', file, '--limit', '0'])).code, 2, 'a bad option is a usage error')
  const missing = await runSluice(['test', file, '--input', join(dir, 'nope.ndjson')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /CONFIG_UNREADABLE: cannot read .*nope\.ndjson/)
})

test('sluice test without --input reads the first --limit records of the source and changes nothing', async () => {
  const { file, dir } = await setup({ sourceType: 'file', path: 'in', cleanSource: 'delete' })
  await mkdir(join(dir, 'in'))
  await writeFile(join(dir, 'in', 'a.ndjson'), `${samples.join('\n')}\n`)
  await writeFile(join(dir, 'in', 'b.ndjson'), '{"id": 5, "amount": 2, "at": "2026-11-25T10:01:00Z"}\n')
  // Complete files, as a producer that finished writing them a while ago leaves them (the file
  // source takes a file only once it has not changed for a moment: listing.ts).
  const past = new Date(Date.now() - 60_000)
  for (const f of ['a.ndjson', 'b.ndjson']) await utimes(join(dir, 'in', f), past, past)
  const result = await runSluice(['test', file, '--limit', '3', '--json'])
  assert.equal(result.code, 0, result.stderr)
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; source: { topic: string; line: number } })
  assert.deepEqual(lines.map((l) => l.outcome), ['row', 'dead', 'filtered'])
  assert.deepEqual(lines.map((l) => [l.source.topic, l.source.line]), [['a.ndjson', 1], ['a.ndjson', 2], ['a.ndjson', 3]])
  // cleanSource: delete would remove a committed file; nothing was committed, no checkpoint written.
  assert.deepEqual((await readdir(join(dir, 'in'))).sort(), ['a.ndjson', 'b.ndjson'])
  assert.ok(!(await readdir(dir)).includes('cp'), 'no checkpoint folder')
  const all = await runSluice(['test', file, '--limit', '100'])
  assert.match(all.stdout, /5 record\(s\) from the source/)
})
