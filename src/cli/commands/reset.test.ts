// `sluice reset` refusals that need no server: usage errors (exit 2) and targets or pipelines a reset
// cannot take (exit 1, before any connection is made). The real resets: test/ops/reset*.int.test.ts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../main.ts', import.meta.url))
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

/** A pipeline file; its database (port 1) is never reached by these refusals. */
function pipeline(extract: Record<string, unknown>, streaming: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-reset-'))
  const file = join(dir, 'pipeline.json')
  writeFileSync(
    file,
    JSON.stringify({
      pipelineId: 'rst_unit',
      extract,
      load: { sinkType: 'postgresql', table: 'events', connectionParams: { host: '127.0.0.1', port: 1, database: 'x', user: 'x' } },
      streamingConfigJson: { checkpointLocation: join(dir, 'ckpt'), queryName: 'q', triggerMode: 'availablenow', ...streaming },
    }),
  )
  return file
}

const kafka = { sourceType: 'kafka', topic: 'orders', connectionParams: { 'kafka.bootstrap.servers': '127.0.0.1:1' } }

test('--to is required and checked before anything is loaded: a bad one is a usage error naming what is wrong', () => {
  const missing = run('reset', 'nowhere.json')
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /required option '--to <target>' not specified/)
  const bad = run('reset', 'nowhere.json', '--to', '{"orders/1": "x", "orders/2": 1.5}')
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--to <target>.*is invalid\. at "orders\/2": 1\.5 is not a whole number/)
  const zone = run('reset', 'nowhere.json', '--to', '2026-11-25T10:00:00')
  assert.equal(zone.status, 2)
  assert.match(zone.stderr, /has no time zone: add Z \(UTC\) or an offset/)
  const help = run('reset', '--help')
  assert.equal(help.status, 0)
  assert.match(help.stdout, /Usage: sluice reset .*--to <target>.*--dry-run.*--keep-watermark.*--json/s)
})

test('an at-least-once pipeline is refused: its positions are in the checkpoint folder', () => {
  const r = run('reset', pipeline(kafka, { enableIdempotence: false }), '--to', 'earliest', '--json')
  assert.equal(r.status, 1, r.stderr)
  const error = (JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string; retryable: boolean } }).error
  assert.equal(error.code, 'RESET_REFUSED')
  assert.equal(error.retryable, false)
  assert.match(error.message, /runs at-least-once \(enableIdempotence: false\): its positions are in the checkpoint folder .*ckpt, not in the database/)
})

test('a source without resetTo (the generator) is refused, naming the sources that can be reset', () => {
  const r = run('reset', pipeline({ sourceType: 'generator', fields: { id: { type: 'sequence' } } }), '--to', 'earliest')
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^sluice: RESET_REFUSED: the generator source cannot be reset .*kafka and file pipelines can/)
})

test('an unreachable database is the usual SINK_UNAVAILABLE, not a refusal', () => {
  const r = run('reset', pipeline({ sourceType: 'file', path: '.', format: 'json' }), '--to', 'earliest', '--json')
  assert.equal(r.status, 1)
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'SINK_UNAVAILABLE')
})
