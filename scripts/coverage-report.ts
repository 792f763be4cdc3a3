/**
 * The one "test" of the coverage report (scripts/with-coverage.ts runs it under
 * `node --test --experimental-test-coverage`): it hands the coverage files that the test tiers
 * wrote (SLUICE_COVERAGE_FROM) to the report of this run, by copying them into the folder this
 * run collects from (NODE_V8_COVERAGE, set by the runner). The runner then reports them all,
 * applies the line gate and fails below it. It runs no Sluice code itself, so it adds nothing.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'

test('the coverage written by the test tiers joins this report', async () => {
  const from = process.env.SLUICE_COVERAGE_FROM
  const into = process.env.NODE_V8_COVERAGE
  assert.ok(from, 'SLUICE_COVERAGE_FROM names the folder the tiers wrote their coverage to')
  assert.ok(into, 'run under node --test --experimental-test-coverage (it sets NODE_V8_COVERAGE)')
  const files = (await readdir(from)).filter((f) => f.startsWith('coverage-') && f.endsWith('.json'))
  assert.ok(files.length > 0, `no coverage was written to ${from}`)
  // Same names: the runner reads only coverage-<pid>-<ms>-<thread>.json, unique per process.
  for (const f of files) await copyFile(join(from, f), join(into, f))
})
