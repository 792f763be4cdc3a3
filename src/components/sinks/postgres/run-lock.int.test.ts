// sluice-test: serial (counts every session waiting for a run lock; scripts/run-tests.ts)
// The run lock on a real PostgreSQL server: shared among runs, exclusive for a reset, waited for
// while a reset holds it, given up on abort, and taken again after its connection was cut.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type pg from 'pg'
import type { Logger } from '../../../api/component.ts'
import { connect, type Connection } from './connection.ts'
import { RunLock, tryExclusiveRunLock } from './run-lock.ts'
import { adminClient, freshSchema, pgLoadConfig, testContext } from './testing.ts'
import { PostgresStore } from './store.ts'
import { isSluiceError } from '../../../errors.ts'

let admin: pg.Client
let schema: string
let conn: Connection

/** A logger that keeps its messages. */
function recorder(): Logger & { readonly messages: string[] } {
  const messages: string[] = []
  const log = {
    messages,
    debug: (_o: object, m?: string) => void messages.push(m ?? ''),
    info: (_o: object, m?: string) => void messages.push(m ?? ''),
    warn: (_o: object, m?: string) => void messages.push(m ?? ''),
    error: (_o: object, m?: string) => void messages.push(m ?? ''),
    child: () => log,
  }
  return log
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Whether a reset could take the lock now (its transaction rolls back at once). */
async function resetCould(pipelineId = 'p'): Promise<boolean> {
  return conn.driver.transaction((tx) => tryExclusiveRunLock(tx, schema, pipelineId))
}

async function lockBackends(pipelineId = 'p'): Promise<number[]> {
  const r = await admin.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = 1397511491 AND l.granted
       AND l.objid::text::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296`,
    [`${schema}.${pipelineId}`],
  )
  return r.rows.map((row) => row.pid)
}

before(async () => {
  admin = await adminClient()
  schema = await freshSchema(admin, 'rst_lock')
  conn = await connect(pgLoadConfig(schema), testContext())
})
after(async () => {
  await conn.driver.close()
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`)
  await admin.end()
})

test('several runs share the lock; a reset gets it only when none holds it; pipelines and schemas do not mix', async () => {
  assert.equal(await resetCould(), true)
  const a = await RunLock.take(conn.driver, schema, 'p', recorder(), AbortSignal.timeout(10_000))
  const b = await RunLock.take(conn.driver, schema, 'p', recorder(), AbortSignal.timeout(10_000))
  assert.ok(a?.held && b?.held)
  assert.equal(await resetCould(), false)
  assert.equal(await resetCould('other'), true, 'another pipeline')
  assert.equal(await conn.driver.transaction((tx) => tryExclusiveRunLock(tx, `${schema}_x`, 'p')), true, 'the same id in another schema')
  const apps = await admin.query<{ application_name: string }>('SELECT a.application_name FROM pg_stat_activity a WHERE a.pid = ANY($1::int[])', [await lockBackends()])
  assert.deepEqual(apps.rows.map((r) => r.application_name), ['sluice run lock', 'sluice run lock'])
  await a?.release()
  assert.equal(await resetCould(), false, 'b still runs')
  await b?.release()
  await b?.release() // twice is harmless
  assert.equal(await resetCould(), true)
})

test('a run that starts during a reset waits for its transaction, and a stop while waiting gives up', async () => {
  let release: () => void = () => {}
  const held = new Promise<void>((r) => (release = r))
  let locked: () => void = () => {}
  const taken = new Promise<void>((r) => (locked = r))
  const resetTx = conn.driver.transaction(async (tx) => {
    assert.equal(await tryExclusiveRunLock(tx, schema, 'p'), true)
    locked()
    await held
  })
  await taken
  const log = recorder()
  let done = false
  const waiting = RunLock.take(conn.driver, schema, 'p', log, AbortSignal.timeout(20_000)).then((lock) => {
    done = true
    return lock
  })
  await until('the run waits', () => log.messages.includes('waiting for a sluice reset of this pipeline to finish'))
  assert.equal(done, false)
  const stop = new AbortController()
  const stopped = RunLock.take(conn.driver, schema, 'p', recorder(), stop.signal)
  await until('the second run waits too', async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'sluice run lock' AND wait_event_type = 'Lock'")).rows.length >= 2)
  stop.abort()
  await assert.rejects(stopped)
  release()
  await resetTx
  const lock = await waiting
  assert.ok(lock?.held)
  assert.equal(await resetCould(), false)
  await lock?.release()
})

test('a cut lock connection is opened again and the lock taken again, through failures', async () => {
  const log = recorder()
  const real = conn.driver
  let failures = 1
  const flaky = {
    ...real,
    transaction: real.transaction.bind(real),
    query: real.query.bind(real),
    close: real.close.bind(real),
    dedicated: async (name: string) => {
      if (log.messages.includes('the run lock connection was lost; taking the lock again') && failures-- > 0) throw new Error('database down')
      return (real.dedicated as NonNullable<typeof real.dedicated>)(name)
    },
  }
  const lock = await RunLock.take(flaky, schema, 'p', log, AbortSignal.timeout(10_000))
  const [pid] = await lockBackends()
  await admin.query('SELECT pg_terminate_backend($1)', [pid])
  await until('taken again', () => log.messages.includes('run lock taken again'))
  assert.ok(log.messages.includes('taking the run lock again failed; retrying'))
  assert.ok(lock?.held)
  assert.equal(await resetCould(), false)
  const [again] = await lockBackends()
  assert.notEqual(again, pid)
  await lock?.release()
  assert.equal(await resetCould(), true)
})

test('released while the lock is being taken again: it stays released', async () => {
  const log = recorder()
  const lock = await RunLock.take(conn.driver, schema, 'p', log, AbortSignal.timeout(10_000))
  const [pid] = await lockBackends()
  await admin.query('SELECT pg_terminate_backend($1)', [pid])
  await until('lost', () => log.messages.includes('the run lock connection was lost; taking the lock again'))
  await lock?.release()
  await new Promise((r) => setTimeout(r, 1500))
  assert.equal(lock?.held, false)
  assert.equal(await resetCould(), true)
  assert.ok(!log.messages.includes('run lock taken again'))
})

test('a driver without a second session (embedded PGlite) takes no run lock: its lock file keeps other processes out', async () => {
  const { dedicated: _none, ...embedded } = conn.driver
  assert.equal(await RunLock.take({ ...embedded, kind: 'pglite' }, schema, 'p', recorder(), AbortSignal.timeout(1000)), null)
})

test('a store closed while it is still opening (a shutdown during start-up) lets go of the run lock it gets afterwards', async () => {
  // Each delay lets close() land at a different moment of open(): before the connection, before the lock, after.
  for (const delayMs of [0, 5, 20, 60, 150]) {
    const store = new PostgresStore(pgLoadConfig(schema), testContext(process.cwd(), 'racing'))
    const opening = store.open(AbortSignal.timeout(30_000)).then(
      () => 'opened',
      (err: unknown) => (isSluiceError(err, 'SHUTDOWN') ? 'shut down' : `failed: ${String(err)}`),
    )
    await new Promise((r) => setTimeout(r, delayMs))
    await store.close()
    const outcome = await opening
    assert.ok(outcome === 'shut down' || outcome === 'opened', `${delayMs} ms: ${outcome}`)
    // Opened before close() ran (close released it), or refused after: either way, with one close()
    // and nothing else (a shutdown closes once), nothing of it holds the lock now.
    await until(`no run lock of the racing store (${delayMs} ms)`, async () => (await lockBackends('racing')).length === 0)
    assert.equal(await resetCould('racing'), true)
  }
})
