// sluice-test: serial (stops and starts the machine's PostgreSQL; scripts/run-tests.ts)
/**
 * The real PostgreSQL server stopped and started while a continuous pipeline runs (not a proxy:
 * `pg_ctlcluster stop -m fast` ends every session with an admin-shutdown error, then refuses
 * connections). The pipeline retries with backoff, /ready is 503 meanwhile, and once the server is
 * back every record lands exactly once. It stops the machine's PostgreSQL for a few seconds, so it
 * runs only when SLUICE_TEST_PG_RESTART=1 (.ci/run sets it) and the cluster can be controlled;
 * otherwise it is skipped, visibly.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { createTopic, produce, uniqueTopic } from '../helpers/kafka.ts'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { startSluice } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, events } from '../e2e/fixtures.ts'
import { count, freePort, get, opsPipeline, until } from './support.ts'

function cluster(): string | null {
  if (process.env.SLUICE_TEST_PG_RESTART !== '1') return null
  if (pgSettings().host !== '127.0.0.1' && pgSettings().host !== 'localhost') return null
  try {
    const versions = readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b))
    const version = versions.at(-1)
    if (!version || spawnSync('pg_ctlcluster', [version, 'main', 'status']).status !== 0) return null
    return version
  } catch {
    return null
  }
}

function ctl(version: string, action: 'stop' | 'start'): void {
  const args = [version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])]
  const r = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...args], { encoding: 'utf8' })
  assert.equal(r.status, 0, `pg_ctlcluster ${args.join(' ')}: ${r.stderr}`)
}

function waitReady(): void {
  for (let i = 0; i < 60; i++) {
    if (spawnSync('pg_isready', ['-q', '-h', pgSettings().host, '-p', String(pgSettings().port)]).status === 0) return
    spawnSync('sleep', ['0.5'])
  }
  assert.fail('PostgreSQL did not come back')
}

describe('PostgreSQL server restart', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('the server stops and starts mid-stream: retried, /ready 503 then 200, nothing lost or doubled', async (t) => {
    const version = cluster()
    if (version === null) {
      t.skip('set SLUICE_TEST_PG_RESTART=1 to stop and start the local PostgreSQL cluster (needs pg_ctlcluster)')
      return
    }
    const topic = uniqueTopic('ops-restart')
    await createTopic(topic, 2)
    await produce(topic, events(1000).map((m, i) => ({ ...m, partition: i % 2 })))
    const s = await createTestSchema('opsrs')
    schemas.push(s)
    // The test's own idle connections die with the server too; the pool replaces them afterwards.
    s.pool.on('error', () => {})
    await s.pool.query(EVENTS_DDL)
    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    const { file, pipelineId } = await opsPipeline(s, topic, { trigger: 'continuous', maxOffsets: 300 })
    const running = startSluice(['run', file, '--http-port', String(port)])
    t.after(() => running.child.kill('SIGKILL'))
    let stopped = false
    try {
      await until('1000 rows loaded', async () => (await count(s)) === 1000)
      ctl(version, 'stop')
      stopped = true
      await produce(topic, events(1000, 1000).map((m, i) => ({ ...m, partition: i % 2 })))
      await until('/ready answers 503', async () => (await get(`${base}/ready`)).status === 503, 20_000)
      await until('the batch is retried', () => running.output().includes('retrying the same batch'), 20_000)
      ctl(version, 'start')
      stopped = false
      waitReady()
      await until('2000 rows loaded after the restart', async () => (await count(s)) === 2000, 90_000, () => running.output().slice(-2000))
      await until('/ready answers 200 again', async () => (await get(`${base}/ready`)).status === 200, 30_000)
    } finally {
      if (stopped) {
        ctl(version, 'start')
        waitReady()
      }
      running.child.kill('SIGTERM')
    }
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    await assertExactlyOnce(s, 2000)
    await assertTrackerContiguous(s, pipelineId, 2000)
  })
})
