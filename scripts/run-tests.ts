/**
 * Runs a test tier with node:test:
 *   node scripts/run-tests.ts unit   every src/**\/*.test.ts that is not an integration test (no servers)
 *   node scripts/run-tests.ts int    every *.int.test.ts under src/ and test/ (real Kafka + PostgreSQL)
 * Extra arguments are passed to `node --test`.
 *
 * Integration files run two at a time: they share the broker and the database server, but each
 * uses its own topics and schemas, and most of their time is spent waiting (session timeouts,
 * restarts, polls), so two at once nearly halve the tier on 2 cores. A file that acts on the whole
 * server or on every process (stops PostgreSQL, terminates other sessions' backends, counts every
 * waiting lock) or whose timing is the point (consumer-group rebalances, signals) says so with a
 * `// sluice-test: serial` line; those run afterwards, one at a time, on a quiet machine.
 */
import { spawnSync } from 'node:child_process'
import { glob, readFile } from 'node:fs/promises'

const SERIAL_MARK = /^\/\/ sluice-test: serial\b/m

const [tier = 'unit', ...extra] = process.argv.slice(2)
const files: string[] = []
const patterns = tier === 'int' ? ['src/**/*.int.test.ts', 'test/**/*.int.test.ts'] : ['src/**/*.test.ts']
for (const pattern of patterns) {
  for await (const file of glob(pattern, { exclude: (f) => f.includes('node_modules') })) {
    if (tier === 'int' || !file.endsWith('.int.test.ts')) files.push(file)
  }
}
files.sort()

function runFiles(list: readonly string[], concurrency: number): number {
  if (list.length === 0) return 0
  const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...extra, ...list], { stdio: 'inherit' })
  return result.status ?? 1
}

if (tier !== 'int') process.exit(runFiles(files, 2))
const serial: string[] = []
const shared: string[] = []
for (const file of files) (SERIAL_MARK.test(await readFile(file, 'utf8')) ? serial : shared).push(file)
const first = runFiles(shared, 2)
const second = runFiles(serial, 1)
process.exit(first !== 0 ? first : second)
