import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EngineEvents } from './events.ts'
import { MemorySink, MemorySource, memoryQuery } from './testkit.ts'

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
  const { query } = await memoryQuery(source, sink, { trigger: { type: 'continuous' }, dir, events })
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
