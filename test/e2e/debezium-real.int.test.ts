/**
 * A real Debezium (issue 14): the Debezium PostgreSQL connector 3.6.1.Final in Kafka Connect
 * standalone (test/helpers/debezium.ts) captures three tables of a PostgreSQL cluster with
 * wal_level=logical that the test starts itself (test/helpers/pg-cluster.ts, never the machine's
 * server) into three topics that only Debezium creates, with JsonConverter and schemas.enable=true
 * (key and value), so that the logical types (Decimal bytes, VariableScaleDecimal, Date days,
 * MicroTimestamp µs, ZonedTimestamp) arrive with their schema. One `sluice run a.json b.json c.json`
 * process mirrors each topic into a table of the machine's PostgreSQL with `envelope: "debezium"`
 * (upsert by `id`, deletes applied). While random inserts, updates and deletes run on the source
 * tables, Sluice is SIGKILLed at random moments and restarted; at the end each mirror table must
 * equal its source table row for row, every column compared as PostgreSQL's text of the value.
 *
 * Debezium's record key is a struct in the Connect envelope (`{"schema": ..., "payload": {"id": 1}}`):
 * the test checks that shape on the topic and that the deletes keyed on it landed.
 * Seed: DBZ_SEED reproduces a run's random choices (printed at the start).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import pg from 'pg'
import { Consumer } from '@platformatic/kafka'
import { CLUSTER_PASSWORD, REPLICATION_USER, startPgCluster, type PgCluster } from '../helpers/pg-cluster.ts'
import { startConnect, type ConnectWorker } from '../helpers/debezium.ts'
import { createAdmin, kafkaBootstrap } from '../helpers/kafka.ts'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { startSluice, writePipeline, type RunningCli } from '../helpers/cli.ts'

/** The three captured tables: their columns (after `id integer PRIMARY KEY`) and a random row's values. */
const TABLES = {
  customers: 'name text, points bigint, vip boolean, balance numeric(14,2), born date',
  orders: 'customer text, qty bigint, total numeric, placed timestamp(6), shipped boolean',
  events: 'kind text, n bigint, at timestamptz, flag boolean, day date',
} as const
type Table = keyof typeof TABLES
const NAMES = Object.keys(TABLES) as Table[]

const seed = Number(process.env.DBZ_SEED ?? Date.now() % 1_000_000)
let state = seed
/** mulberry32: a small seeded generator, so a failing run can be replayed with DBZ_SEED. */
function random(): number {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1))
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
const maybeNull = <T>(v: T): T | null => (random() < 0.1 ? null : v)

/** SQL literals for a random row of `table` (edge values: past 2^53, negative, before 1970, quotes). */
function randomValues(table: Table): string[] {
  const text = () => maybeNull(`'${`${pick(['Ann', "O'Brien", 'Zoë', 'x'.repeat(int(1, 60)), '', 'tab\tand "quotes"'])}-${int(0, 999)}`.replaceAll("'", "''")}'`)
  const big = () => maybeNull(pick([String(int(-1000, 1000)), '9007199254740993', '-9223372036854775808', '9223372036854775807', String(int(0, 2 ** 31))]))
  const bool = () => maybeNull(random() < 0.5 ? 'true' : 'false')
  const date = () => maybeNull(`'${pick(['1969-12-31', '1900-02-28', '2000-02-29', '0001-01-01', '2038-01-19', `${int(1950, 2030)}-0${int(1, 9)}-1${int(0, 9)}`])}'`)
  const numeric = (scale: number) => maybeNull(`${random() < 0.5 ? '-' : ''}${int(0, 999_999_999_999)}.${String(int(0, 10 ** scale - 1)).padStart(scale, '0')}`)
  const wild = () => maybeNull(pick(['0', '-0.000001', '123456789012345678901234567890.123456789', `${int(-99999, 99999)}.${int(0, 99)}`, '1e-10', '42']))
  const ts = () => maybeNull(`'${pick(['1969-12-31 23:59:59.999999', '1960-01-01 00:00:00.123456', `${int(1970, 2037)}-0${int(1, 9)}-2${int(0, 8)} ${int(10, 23)}:${int(10, 59)}:${int(10, 59)}.${int(0, 999_999)}`])}'`)
  const tstz = () => maybeNull(`'${pick(['1969-12-31 23:59:59.5+00', '2024-02-29 12:00:00+05:30', `${int(1971, 2037)}-1${int(0, 2)}-1${int(0, 9)} 0${int(0, 9)}:00:00.${int(0, 999)}-03`])}'`)
  const v: Record<Table, () => (string | null)[]> = {
    customers: () => [text(), big(), bool(), numeric(2), date()],
    orders: () => [text(), big(), wild(), ts(), bool()],
    events: () => [text(), big(), tstz(), bool(), date()],
  }
  return v[table]().map((x) => x ?? 'NULL')
}

/** The column names of a table's definition (split at commas outside parentheses: numeric(14,2)). */
function columnsOf(table: Table): string[] {
  return TABLES[table].split(/,(?![^(]*\))/).map((c) => c.trim().split(' ')[0] as string)
}

let source: PgCluster
let src: pg.Pool
let connect: ConnectWorker | undefined
let s: TestSchema
const prefix = `dbz${Date.now().toString(36)}`
const topicOf = (t: Table): string => `${prefix}.public.${t}`
/** The ids each table has now (the generator's view of the source). */
const ids: Record<Table, Set<number>> = { customers: new Set(), orders: new Set(), events: new Set() }
let nextId = 1
/** Committed deletes, of rows that existed. */
let deletes = 0

before(async () => {
  source = await startPgCluster({ tls: false, logical: true })
  src = new pg.Pool({ host: source.host, port: source.port, user: REPLICATION_USER, password: CLUSTER_PASSWORD, database: source.database, max: 3 })
  s = await createTestSchema('dbz_real')
  for (const t of NAMES) {
    await src.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, ${TABLES[t]})`)
    await s.pool.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, ${TABLES[t]})`)
    // Rows before the connector starts: its snapshot reads them (op "r").
    for (let i = 0; i < 20; i++) await insert(src, t)
  }
  connect = await startConnect(kafkaBootstrap, {
    name: prefix,
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'plugin.name': 'pgoutput',
    'database.hostname': source.host,
    'database.port': source.port,
    'database.user': REPLICATION_USER,
    'database.password': CLUSTER_PASSWORD,
    'database.dbname': source.database,
    'topic.prefix': prefix,
    'table.include.list': NAMES.map((t) => `public.${t}`).join(','),
    'slot.name': prefix,
    'publication.name': prefix,
    'publication.autocreate.mode': 'filtered',
    // Connect creates the topics on their first record: two partitions, so keys are spread.
    'topic.creation.default.replication.factor': 1,
    'topic.creation.default.partitions': 2,
    'poll.interval.ms': 50,
    // The events topic without "before" (Connect's ReplaceField on the envelope, as a user slimming
    // the events would set it): its deletes carry the row's key only in the struct record key.
    transforms: 'dropBefore',
    'transforms.dropBefore.type': 'org.apache.kafka.connect.transforms.ReplaceField$Value',
    'transforms.dropBefore.exclude': 'before',
    'transforms.dropBefore.predicate': 'isEvents',
    predicates: 'isEvents',
    'predicates.isEvents.type': 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
    'predicates.isEvents.pattern': '.*\\.events',
  })
})

after(async () => {
  await connect?.stop()
  await src?.end()
  await source?.stop()
  await s?.drop()
})

async function insert(db: pg.Pool | pg.PoolClient, t: Table): Promise<void> {
  const id = nextId++
  await db.query(`INSERT INTO ${t} (id, ${columnsOf(t).join(', ')}) VALUES (${id}, ${randomValues(t).join(', ')})`)
  ids[t].add(id)
}

/** One random transaction of 1-4 changes over the tables (inserts, updates, deletes, a key deleted and re-inserted). */
async function randomTransaction(): Promise<void> {
  const c = await src.connect()
  try {
    await c.query('BEGIN')
    const removed: [Table, number][] = []
    const added: [Table, number][] = []
    for (let i = int(1, 4); i > 0; i--) {
      const t = pick(NAMES)
      const existing = [...ids[t]]
      const r = random()
      if (r < 0.35 || existing.length < 5) {
        const id = nextId
        await insert(c, t)
        added.push([t, id])
      } else if (r < 0.75) {
        const cols = columnsOf(t)
        const vals = randomValues(t)
        await c.query(`UPDATE ${t} SET ${cols.map((col, j) => `${col} = ${vals[j]}`).join(', ')} WHERE id = ${pick(existing)}`)
      } else if (r < 0.95) {
        const id = pick(existing)
        await c.query(`DELETE FROM ${t} WHERE id = ${id}`)
        ids[t].delete(id)
        removed.push([t, id])
      } else {
        // Deleted and created again under the same key.
        const id = pick(existing)
        await c.query(`DELETE FROM ${t} WHERE id = ${id}`)
        await c.query(`INSERT INTO ${t} (id, ${columnsOf(t).join(', ')}) VALUES (${id}, ${randomValues(t).join(', ')})`)
      }
    }
    if (random() < 0.1) {
      await c.query('ROLLBACK')
      for (const [t, id] of removed) ids[t].add(id)
      for (const [t, id] of added) ids[t].delete(id)
    } else {
      await c.query('COMMIT')
      deletes += removed.length
    }
  } finally {
    c.release()
  }
}

/**
 * Every row of a table as PostgreSQL's text of each value (timestamptz in UTC), by id. An
 * unconstrained numeric is compared without trailing zeros: Debezium's VariableScaleDecimal
 * carries the value with its trailing zeros stripped (-13062.40 arrives as scale 1, -13062.4), so
 * the source's display scale never reaches Kafka; the value itself must be equal.
 */
async function rowsOf(db: pg.Pool, t: Table): Promise<string[][]> {
  const cols = ['id', ...columnsOf(t)].map((c) =>
    TABLES[t].includes(`${c} timestamptz`) ? `(${c} AT TIME ZONE 'UTC')::text` : TABLES[t].includes(`${c} numeric,`) ? `trim_scale(${c})::text` : `${c}::text`,
  )
  const { rows } = await db.query<{ r: (string | null)[] }>({ text: `SELECT ARRAY[${cols.join(', ')}] AS r FROM ${t} ORDER BY id`, rowMode: 'array' } as pg.QueryConfig)
  return (rows as unknown as [(string | null)[]][]).map(([r]) => r.map((v) => v ?? '∅'))
}

async function mirrorsEqual(): Promise<boolean> {
  for (const t of NAMES) if (JSON.stringify(await rowsOf(src, t)) !== JSON.stringify(await rowsOf(s.pool, t))) return false
  return true
}

async function pipelineFiles(): Promise<string[]> {
  const pgs = pgSettings()
  const files: string[] = []
  for (const t of NAMES) {
    const { file } = await writePipeline((d: string) => ({
      pipelineId: `${prefix}-${t}`,
      mode: 'streaming',
      extract: {
        sourceType: 'kafka',
        topic: topicOf(t),
        envelope: 'debezium',
        // One worker reading every partition (positions from the database): in a consumer group a
        // SIGKILLed member keeps its partitions until the session timeout (45 s) ends, per kill.
        connectionParams: { 'kafka.bootstrap.servers': kafkaBootstrap, startingOffsets: 'earliest', maxOffsetsPerTrigger: int(5, 40), groupMembership: false },
      },
      load: {
        sinkType: 'postgresql',
        table: t,
        writeMode: 'upsert',
        upsertKeys: ['id'],
        connectionParams: { host: pgs.host, port: pgs.port, database: pgs.database, user: pgs.user, currentSchema: s.schema },
      },
      streamingConfigJson: { checkpointLocation: join(d, 'cp'), queryName: t, triggerMode: 'processingtime=100 milliseconds' },
      errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: `${t}_dlq` } },
    }))
    files.push(file)
  }
  return files
}

async function topicsExist(): Promise<boolean> {
  const admin = createAdmin()
  try {
    const names = await admin.listTopics()
    return NAMES.every((t) => names.includes(topicOf(t)))
  } finally {
    await admin.close()
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, out: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- sluice:\n${out().slice(-4000)}\n--- connect:\n${(await connect?.log())?.slice(-4000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The first record key on a topic, as text. */
async function firstKey(topic: string): Promise<string | null> {
  const consumer = new Consumer({ clientId: 'dbz-key-check', groupId: `${prefix}-keys`, bootstrapBrokers: [kafkaBootstrap] })
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', maxWaitTime: 200 })
    let key: string | null = null
    for await (const m of stream) {
      key = m.key === null || m.key === undefined ? null : m.key.toString()
      break
    }
    await stream.close()
    return key
  } finally {
    await consumer.close()
  }
}

test('a real Debezium PostgreSQL connector: mirrors equal their source tables after random changes and SIGKILLs of Sluice', async () => {
  console.log(`debezium-real: DBZ_SEED=${seed}`)
  const files = await pipelineFiles()
  const killed: RunningCli[] = []
  let sluice: RunningCli | undefined
  const output = () => [...killed, ...(sluice ? [sluice] : [])].map((w) => w.output().slice(-2000)).join('\n----\n')
  try {
    // Debezium's snapshot creates the three topics; Sluice starts once they exist, as an operator would.
    await until('Debezium to create the topics', topicsExist, 60_000, output)
    const key = await firstKey(topicOf('customers'))
    const parsedKey = JSON.parse(key ?? 'null') as { schema?: { type?: string; fields?: { field?: string }[] }; payload?: unknown }
    assert.equal(parsedKey.schema?.type, 'struct', `Debezium's record key is a Connect-wrapped struct: ${key}`)
    assert.deepEqual(parsedKey.schema?.fields?.map((f) => f.field), ['id'])
    assert.ok(parsedKey.payload !== null && typeof parsedKey.payload === 'object' && 'id' in parsedKey.payload)

    let mutating = true
    let transactions = 0
    const mutations = (async () => {
      while (mutating) {
        await randomTransaction()
        transactions++
        await new Promise((r) => setTimeout(r, int(0, 15)))
      }
    })()
    sluice = startSluice(['run', ...files])
    for (let round = 0; round < 4; round++) {
      // From 0.3 s (still starting up) to 4 s (batches committing): kills land anywhere in a run.
      await new Promise((r) => setTimeout(r, int(300, 4000)))
      sluice.child.kill('SIGKILL')
      await sluice.done
      killed.push(sluice)
      sluice = startSluice(['run', ...files])
    }
    await new Promise((r) => setTimeout(r, int(1000, 3000)))
    mutating = false
    await mutations
    assert.ok(transactions > 50, `${transactions} source transactions`)

    // Caught up: every mirror equal to its source. A mirror that never gets there fails the
    // assertions below with the rows that differ.
    const deadline = Date.now() + 60_000
    while (!(await mirrorsEqual()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
    assert.equal(sluice.child.exitCode, null, `sluice still runs (streaming):\n${output()}`)
    for (const t of NAMES) {
      const expected = await rowsOf(src, t)
      assert.deepEqual(await rowsOf(s.pool, t), expected, `${t} mirror equals the source`)
      assert.ok(expected.length > 10, `${t} has ${expected.length} rows`)
      const { rows: dead } = await s.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}_dlq`).catch(() => ({ rows: [{ n: '0' }] }))
      assert.equal(dead[0]?.n, '0', `${t}: no dead letters`)
    }
    // The random run deleted rows (deletes keyed on Debezium's struct key) and Sluice died mid-stream.
    assert.ok(deletes > 10, `${deletes} rows deleted`)
    assert.equal(killed.length, 4)
    for (const k of killed) assert.equal((await k.done).signal, 'SIGKILL')
  } finally {
    sluice?.child.kill('SIGTERM')
    if (sluice) await sluice.done
    // DBZ_DEBUG=<path prefix>: every Sluice process's output and Connect's log into files, for a post-mortem.
    if (process.env.DBZ_DEBUG) {
      const { writeFileSync } = await import('node:fs')
      ;[...killed, ...(sluice ? [sluice] : [])].forEach((w, i) => writeFileSync(`${process.env.DBZ_DEBUG}-${i}.log`, w.output()))
      writeFileSync(`${process.env.DBZ_DEBUG}-connect.log`, (await connect?.log()) ?? '')
    }
  }
})
