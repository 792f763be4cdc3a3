import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nullLogger } from '../api/component.ts'
import { CircuitBreaker } from '../reliability/circuit-breaker.ts'
import { DeadLetterTables } from '../reliability/dlq.ts'
import { BatchRunner } from './batch-runner.ts'
import { CheckpointLog } from './checkpoint.ts'
import { EngineEvents } from './events.ts'
import { Query } from './query.ts'
import { MemorySink, MemorySource } from './testkit.ts'
import { TriggerPolicy } from './trigger.ts'

test('a continuous query reports idle while waiting, running again when data arrives, and lag from the source', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-state-'))
  const source = new MemorySource([[]])
  const sink = new MemorySink()
  const events = new EngineEvents()
  const seen: string[] = []
  const lags: Record<string, number>[] = []
  events.on((name, payload) => {
    if (name === 'query.state') seen.push(`state:${(payload as { state: string }).state}`)
    else if (name === 'batch.planned' || name === 'batch.committed') seen.push(name)
    else if (name === 'source.lag') lags.push({ ...(payload as { lag: Record<string, number> }).lag })
  })
  const breaker = new CircuitBreaker({ enabled: true, failureThreshold: 100, resetTimeoutSeconds: 0.01 })
  const runner = new BatchRunner({
    pipelineId: 'p',
    source,
    sink,
    exactlyOnce: true,
    checkpointLocation: dir,
    retry: { strategy: 'fixed', maxAttempts: 3, initialDelaySeconds: 0.001, maxDelaySeconds: 0.001 },
    breaker,
    breakerEnabled: true,
    recordPath: { validator: null, transform: null, watermark: null, deleteKeys: null },
    deadLetters: new DeadLetterTables({ pipelineId: 'p', dlq: { kind: 'table', table: 'dlq' }, late: null }),
    lateStrategy: 'drop',
    failFast: false,
    events,
    logger: nullLogger,
  })
  const query = new Query({
    pipelineId: 'p',
    source,
    sink,
    checkpoint: new CheckpointLog(dir),
    trigger: new TriggerPolicy({ type: 'continuous' }),
    limits: {},
    exactlyOnce: true,
    runner,
    events,
    logger: nullLogger,
  })
  const stop = new AbortController()
  const done = query.run(stop.signal, new AbortController().signal)
  const waitFor = async (what: string): Promise<void> => {
    for (let i = 0; i < 500 && !seen.includes(what); i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(seen.includes(what), `${what} in ${seen.join(',')}`)
  }
  await waitFor('state:idle')
  source.partitions[0]?.push(JSON.stringify({ id: 1 }), JSON.stringify({ id: 2 }))
  await waitFor('batch.committed')
  stop.abort()
  await done
  const planned = seen.indexOf('batch.planned')
  assert.equal(seen[planned - 1], 'state:running', `back to running before the batch: ${seen.join(',')}`)
  assert.equal(seen.at(-1), 'state:stopped')
  assert.deepEqual(lags[0], { 'p/0': 0 }, 'lag measured at start')
  assert.equal(sink.rows.length, 2)
})
