// sluice-test: serial (signals at every moment of a run, shutdown timeouts; scripts/run-tests.ts)
/**
 * Graceful shutdown of `sluice run`: SIGTERM during a batch lets it commit whole and exits 0;
 * past shutdownTimeoutSeconds the batch is cancelled and rolls back, still exit 0; a second signal
 * exits at once. In every case the table holds whole batches only and the next run resumes exactly.
 * Signals reach Sluice however it is started (the bin, `npm run sluice`, `npx sluice`), at every
 * moment: while it loads, while it retries an unreachable broker or database, during a batch.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createTestSchema, type TestSchema } from '../helpers/pg.ts'
import { type RunningCli, cliPath, projectDir, runSluice, startCommand, startSluice, waitForOutput } from '../helpers/cli.ts'
import { EVENTS_DDL, assertExactlyOnce, assertTrackerContiguous, topicWithEvents } from '../e2e/fixtures.ts'
import { count, freePort, opsPipeline, until } from './support.ts'

const COUNT = 20_000
const BATCH = 8_000
let topic: string

before(async () => {
  topic = await topicWithEvents(COUNT, 3)
})

describe('graceful shutdown', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  async function fresh(): Promise<TestSchema> {
    const s = await createTestSchema('opss')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    return s
  }

  /** Sum of record_count in the tracker; the table must hold exactly those rows (whole batches). */
  async function assertWholeBatches(s: TestSchema): Promise<{ batches: number; records: number }> {
    const { rows } = await s.pool.query<{ b: string; r: string | null }>('SELECT count(*) AS b, sum(record_count) AS r FROM batch_tracker')
    const batches = Number(rows[0]?.b)
    const records = Number(rows[0]?.r ?? 0)
    assert.equal(await count(s), records, 'the table holds exactly the records of the committed batches')
    const distinct = await s.pool.query<{ d: string }>('SELECT count(DISTINCT id) AS d FROM events')
    assert.equal(Number(distinct.rows[0]?.d), records, 'no record twice')
    return { batches, records }
  }

  test('SIGTERM during a large batch: it commits whole, exit 0, the next run resumes exactly', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@0=sleep:3000' })
    await waitForOutput(running, (o) => o.includes('failpoint mid-fetch@0: sleeping'))
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    assert.match(result.stdout, /shutting down: finishing the batch in flight/)
    const { batches, records } = await assertWholeBatches(s)
    assert.equal(batches, 1, 'the batch in flight committed, no new batch started')
    assert.equal(records, BATCH)
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })

  test('SIGTERM while the batch transaction is open (rows written, COMMIT not sent): it commits, exit 0', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'before-commit@0=sleep:3000' })
    await waitForOutput(running, (o) => o.includes('failpoint before-commit@0: sleeping'))
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    const { batches, records } = await assertWholeBatches(s)
    assert.equal(batches, 1)
    assert.equal(records, BATCH)
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })

  test('SIGTERM and the batch outlives shutdownTimeoutSeconds: it rolls back, exit 0, the next run loads it once', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH, monitoring: { shutdownTimeoutSeconds: 1 } })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@0=sleep:4000' })
    await waitForOutput(running, (o) => o.includes('failpoint mid-fetch@0: sleeping'))
    const signalledAt = Date.now()
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    assert.match(result.stdout, /shutdown timeout: cancelling the batch in flight/)
    assert.ok(Date.now() - signalledAt < 15_000, 'the process did not hang after the cancel')
    const { records } = await assertWholeBatches(s)
    assert.equal(records, 0, 'the cancelled batch left nothing behind')
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })

  test('a second signal exits at once (143) without a half-committed batch; the next run completes', async () => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: BATCH })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@1=sleep:5000' })
    // Batch 1 may be read ahead while batch 0 is still being written: wait for batch 0's commit too.
    await waitForOutput(running, (o) => o.includes('failpoint mid-fetch@1: sleeping') && o.includes('batch committed'))
    running.child.kill('SIGTERM')
    await waitForOutput(running, (o) => o.includes('shutting down'))
    const signalledAt = Date.now()
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 143, result.stderr.slice(-3000))
    assert.ok(Date.now() - signalledAt < 3_000, 'the second signal did not wait for the batch')
    const { batches, records } = await assertWholeBatches(s)
    assert.equal(batches, 1, 'batch 0 committed before the signals, batch 1 did not')
    assert.equal(records, BATCH)
    const rest = await runSluice(['run', file])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })
})

/**
 * True once Sluice's own JavaScript handlers are in (bin/sluice.js installs SIGTERM, SIGINT, then
 * SIGHUP in one go). Read from Linux's SigCgt mask in /proc/<pid>/status; SIGHUP (bit 1) is the
 * marker because Node's native start-up already catches SIGTERM and SIGINT (to restore the
 * terminal, then die of the signal as by default).
 */
function catchesSigterm(pid: number): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m !== null && (BigInt(`0x${m[1]}`) & 1n) !== 0n
  } catch {
    return false
  }
}

/** The pid Sluice logs (its JSON log lines carry it), for processes started through npm. */
function loggedPid(running: RunningCli): number {
  const m = /"pid":(\d+)/.exec(running.output())
  assert.ok(m, `no pid in the output:\n${running.output().slice(-2000)}`)
  return Number(m[1])
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
}

/** A copy of a pipeline file with another trigger (same pipeline id and checkpoint). */
async function withTrigger(file: string, trigger: string): Promise<string> {
  const config = JSON.parse(await readFile(file, 'utf8')) as { streamingConfigJson: Record<string, unknown> }
  config.streamingConfigJson.triggerMode = trigger
  const copy = file.replace(/\.json$/, `.${trigger.replace(/\W+/g, '-')}.json`)
  await writeFile(copy, JSON.stringify(config, null, 2))
  return copy
}

describe('signals reach Sluice at every moment and however it is started', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  async function fresh(): Promise<TestSchema> {
    const s = await createTestSchema('opsig')
    schemas.push(s)
    await s.pool.query(EVENTS_DDL)
    return s
  }

  async function assertWholeBatches(s: TestSchema): Promise<void> {
    const exists = await s.pool.query<{ t: string | null }>("SELECT to_regclass('batch_tracker')::text AS t")
    if (exists.rows[0]?.t === null) return assert.equal(await count(s), 0, 'no tracker, no rows')
    const { rows } = await s.pool.query<{ r: string | null }>('SELECT sum(record_count) AS r FROM batch_tracker')
    assert.equal(await count(s), Number(rows[0]?.r ?? 0), 'the table holds exactly the records of the committed batches')
  }

  test('SIGTERM at moments from 0 to 2500 ms after spawn: once Sluice has a handler (from its first line), always exit 0; then the next run resumes exactly', async (t) => {
    const s = await fresh()
    const { file, pipelineId } = await opsPipeline(s, topic, { maxOffsets: 2_000, trigger: 'processingtime=100 ms' })
    const moments = [0, 50, 100, 200, 350, 500, 750, 1000, 1500, 2500]
    const seen: string[] = []
    for (const ms of moments) {
      const running = startSluice(['run', file])
      await sleep(ms)
      const caught = catchesSigterm(running.child.pid as number)
      running.child.kill('SIGTERM')
      const result = await running.done
      seen.push(`${ms} ms: handler ${caught ? 'in' : 'not yet'}, exit ${result.code ?? result.signal}`)
      // Before Node runs the first line of bin/sluice.js (its own start-up, tens of ms) the kernel's default applies.
      if (caught) assert.equal(result.code, 0, `${seen.join('; ')}\n${result.stderr.slice(-2000)}`)
      if (ms >= 350) assert.ok(caught, `the handler is installed by ${ms} ms (${seen.join('; ')})`)
      if (result.code === null) assert.equal(result.stdout + result.stderr, '', 'killed before any JavaScript ran')
      await assertWholeBatches(s)
    }
    t.diagnostic(seen.join('; '))
    const rest = await runSluice(['run', await withTrigger(file, 'availablenow')])
    assert.equal(rest.code, 0, rest.stderr.slice(-3000))
    await assertExactlyOnce(s, COUNT)
    await assertTrackerContiguous(s, pipelineId, COUNT)
  })

  test('SIGTERM the moment the handler appears (while modules load) exits 0', async () => {
    const s = await fresh()
    const { file } = await opsPipeline(s, topic, { maxOffsets: 2_000 })
    const running = startSluice(['run', file])
    const pid = running.child.pid as number
    const deadline = Date.now() + 10_000
    while (!catchesSigterm(pid) && Date.now() < deadline) await sleep(1)
    assert.ok(catchesSigterm(pid), 'Sluice installs its handlers first thing')
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-2000))
    await assertWholeBatches(s)
  })

  for (const down of ['broker', 'database'] as const) {
    test(`SIGTERM while the ${down} is unreachable and being retried: exit 0, not ${down === 'broker' ? 'SOURCE' : 'SINK'}_UNAVAILABLE`, async () => {
      const s = await fresh()
      const closed = await freePort()
      const { file } = await opsPipeline(s, topic, { maxOffsets: 2_000, ...(down === 'database' ? { pgPort: closed } : {}) })
      const config = JSON.parse(await readFile(file, 'utf8')) as { extract: { connectionParams: Record<string, unknown> }; errorHandlingConfig: Record<string, unknown> }
      if (down === 'broker') config.extract.connectionParams['kafka.bootstrap.servers'] = `127.0.0.1:${closed}`
      config.errorHandlingConfig.retryConfig = { strategy: 'fixed', maxAttempts: 100, initialDelaySeconds: 30, maxDelaySeconds: 30 }
      await writeFile(file, JSON.stringify(config))
      const running = startSluice(['run', file])
      await waitForOutput(running, (o) => o.includes('cannot connect yet, retrying'), 90_000)
      const signalledAt = Date.now()
      running.child.kill('SIGTERM')
      const result = await running.done
      assert.equal(result.code, 0, result.stdout.slice(-3000) + result.stderr.slice(-3000))
      assert.ok(Date.now() - signalledAt < 10_000, 'the retry wait was interrupted')
      assert.doesNotMatch(result.stdout + result.stderr, /query failed/)
      assert.equal(await count(s), 0)
    })
  }

  test('SIGHUP is a graceful stop like SIGTERM: the batch in flight commits, exit 0', async () => {
    const s = await fresh()
    const { file } = await opsPipeline(s, topic, { maxOffsets: BATCH })
    const running = startSluice(['run', file], { SLUICE_FAILPOINTS: 'mid-fetch@0=sleep:3000' })
    await waitForOutput(running, (o) => o.includes('failpoint mid-fetch@0: sleeping'))
    running.child.kill('SIGHUP')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    assert.equal(await count(s), BATCH)
    await assertWholeBatches(s)
  })

  test('the production command (the bin run by its shebang with the project\'s Node on PATH) gets SIGTERM itself: exit 0', async () => {
    const s = await fresh()
    const { file } = await opsPipeline(s, topic, { maxOffsets: 2_000, trigger: 'processingtime=200 ms' })
    const running = startCommand([cliPath, 'run', file], { PATH: `${join(projectDir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` })
    await waitForOutput(running, (o) => o.includes('batch committed'), 60_000)
    assert.equal(loggedPid(running), running.child.pid, 'no wrapper process between the caller and Sluice')
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    await assertWholeBatches(s)
  })

  test('npm run sluice -- run: npm passes SIGTERM on (the script execs the bin), exit 0, no orphan', async () => {
    const s = await fresh()
    const { file } = await opsPipeline(s, topic, { maxOffsets: 2_000, trigger: 'processingtime=200 ms' })
    const running = startCommand(['npm', 'run', '-s', 'sluice', '--', 'run', file])
    await waitForOutput(running, (o) => o.includes('batch committed'), 90_000)
    const pid = loggedPid(running)
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stdout.slice(-2000) + result.stderr.slice(-2000))
    await until('Sluice has exited', () => !alive(pid), 5_000)
    await assertWholeBatches(s)
  })

  test('npx sluice run: npx does not pass SIGTERM on, Sluice sees its parent go and stops gracefully, no orphan', async () => {
    const s = await fresh()
    const { file } = await opsPipeline(s, topic, { maxOffsets: 2_000, trigger: 'processingtime=200 ms' })
    const running = startCommand(['npx', 'sluice', 'run', file])
    await waitForOutput(running, (o) => o.includes('batch committed'), 90_000)
    const pid = loggedPid(running)
    running.child.kill('SIGTERM')
    await running.done
    await until('Sluice has exited', () => !alive(pid), 20_000, () => running.output())
    assert.match(running.output(), /shutting down: finishing the batch in flight/)
    assert.match(running.output(), /parent process \d+ \(npm\) exited/)
    await assertWholeBatches(s)
  })

  test('the container entrypoint execs the bin: Sluice is the signalled process itself, exit 0', async () => {
    const s = await fresh()
    const { file } = await opsPipeline(s, topic, { maxOffsets: 2_000, trigger: 'processingtime=200 ms' })
    const running = startCommand([join(projectDir, 'ops', 'container', 'entrypoint.sh'), 'run', file])
    await waitForOutput(running, (o) => o.includes('batch committed'), 60_000)
    assert.equal(loggedPid(running), running.child.pid, 'the shell was replaced by Sluice')
    running.child.kill('SIGTERM')
    const result = await running.done
    assert.equal(result.code, 0, result.stderr.slice(-3000))
    await assertWholeBatches(s)
  })

  test('the example systemd unit runs the bin directly and passes systemd-analyze verify', { skip: spawnSync('systemd-analyze', ['--version']).status !== 0 && 'no systemd-analyze' }, async () => {
    const unit = await readFile(join(projectDir, 'ops', 'systemd', 'sluice.service'), 'utf8')
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? ''
    assert.match(execStart, /^\/opt\/sluice\/node_modules\/\.bin\/node \/opt\/sluice\/bin\/sluice\.js run /, 'a direct process, no npm or npx')
    assert.match(unit, /^KillMode=mixed$/m)
    const stopSec = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1])
    assert.ok(stopSec > 30, 'more time than the default shutdownTimeoutSeconds')
    const { file, dir } = await opsPipeline(await fresh(), topic)
    const local = unit.replaceAll('/opt/sluice', projectDir.replace(/\/$/, '')).replaceAll('/etc/sluice/pipeline.json', file)
    const copy = join(dir, 'sluice.service')
    await writeFile(copy, local)
    const verify = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' })
    assert.equal(verify.status, 0, verify.stdout + verify.stderr)
  })
})
