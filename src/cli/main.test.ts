import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('./main.ts', import.meta.url))
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })

test('--help and <command> --help exit 0 and describe the commands', () => {
  const top = run('--help')
  assert.equal(top.status, 0)
  for (const command of ['run', 'validate', 'schema', 'status', 'cleanup', 'sql', 'test']) assert.match(top.stdout, new RegExp(`\\b${command}\\b`))
  for (const command of ['run', 'validate', 'status', 'cleanup', 'sql', 'test']) {
    const help = run(command, '--help')
    assert.equal(help.status, 0, `${command} --help`)
    assert.match(help.stdout, new RegExp(`Usage: sluice ${command}`))
  }
})

test('usage errors exit 2', () => {
  assert.equal(run('no-such-command').status, 2)
  const ids = run('dlq', 'replay', 'x.json', '--ids', ' , ')
  assert.equal(ids.status, 2)
  assert.match(ids.stderr, /--ids .*must list at least one id/)
  assert.equal(run('dlq', 'replay', 'x.json', '--batch-size', '0').status, 2)
  assert.equal(run('validate').status, 2, 'missing file argument')
  assert.equal(run('run', '--no-such-flag', 'x.json').status, 2)
})

test('validate exits 1 with every problem for a bad file, 0 for the examples', () => {
  const examples = fileURLToPath(new URL('../../examples/', import.meta.url))
  assert.equal(run('validate', `${examples}streaming-example.json`, `${examples}production-exactly-once.json`).status, 0)
  const bad = run('validate', fileURLToPath(new URL('../../package.json', import.meta.url)))
  assert.equal(bad.status, 1)
  assert.match(bad.stdout + bad.stderr, /pipelineId/)
})
