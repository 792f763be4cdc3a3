/**
 * Runs a test tier with node:test:
 *   node scripts/run-tests.ts unit   every src/**\/*.test.ts that is not an integration test (no servers)
 *   node scripts/run-tests.ts int    every *.int.test.ts under src/ and test/ (real Kafka + PostgreSQL),
 *                                    one file at a time (they share the broker and the database server)
 * Extra arguments are passed to `node --test`.
 */
import { spawnSync } from 'node:child_process'
import { glob } from 'node:fs/promises'

const [tier = 'unit', ...extra] = process.argv.slice(2)
const files: string[] = []
const patterns = tier === 'int' ? ['src/**/*.int.test.ts', 'test/**/*.int.test.ts'] : ['src/**/*.test.ts']
for (const pattern of patterns) {
  for await (const file of glob(pattern, { exclude: (f) => f.includes('node_modules') })) {
    if (tier === 'int' || !file.endsWith('.int.test.ts')) files.push(file)
  }
}
files.sort()
const concurrency = tier === 'int' ? '1' : '2'
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...extra, ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)
