/** `sluice validate`: exit codes, summary, every error, --json. */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Command } from 'commander'
import { registerValidate, runValidate } from './validate.ts'

const root = new URL('../../../', import.meta.url).pathname
const examples = [join(root, 'examples/streaming-example.json'), join(root, 'examples/production-exactly-once.json')]

test('valid examples: exit 0 and a normalized summary', async () => {
  const { exitCode, output } = await runValidate(examples, { env: {} })
  assert.equal(exitCode, 0)
  assert.match(output, /streaming-example\.json: valid/)
  assert.match(output, /trigger processingtime=5 seconds, outputMode append, exactly-once/)
  assert.match(output, /kafka topics production-events from 127\.0\.0\.1:9092/)
  assert.match(output, /postgresql table public\.production_events \(append\) at 127\.0\.0\.1:5432\/test/)
  // The destinations run uses: the default DLQ table (not "none"), and the late topic and its cluster.
  assert.match(output, /streaming-example\.json: valid[^]*dlq table user_events_dlq\n/)
  assert.match(output, /watermark event_time - 10 minutes, late data sendtodlq to kafka topic late-user-events on 127\.0\.0\.1:9092/)
  assert.match(output, /dlq kafka topic failed-production-events on 127\.0\.0\.1:9092/)
  assert.doesNotMatch(output, /dlq none/)
})

test('invalid file: exit 1 with every problem; --json is machine-readable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-validate-'))
  try {
    const bad = join(dir, 'bad.json')
    await writeFile(
      bad,
      JSON.stringify({
        pipelineId: 'x',
        mode: 'streaming',
        extract: { sourceType: 'kafka', topc: 'a', connectionParams: { 'kafka.bootstrap.servers': 'k:1' } },
        load: { sinkType: 'pg', table: 't', connectionParams: { url: 'postgres://u:hunter2@h/db' }, writeMode: 'upsert' },
        streamingConfigJson: { checkpointLocation: '/c', queryName: 'q', triggerMode: 'sometimes' },
      }),
    )
    const text = await runValidate([bad, examples[0] ?? ''], { env: {} })
    assert.equal(text.exitCode, 1)
    assert.match(text.output, /bad\.json: invalid \(3 problems\)/)
    assert.match(text.output, /extract\.topc: unknown key "topc".*did you mean "topic"\?/)
    assert.match(text.output, /streamingConfigJson\.triggerMode: must be .* \(got "sometimes"\)/)
    assert.match(text.output, /streaming-example\.json: valid/)
    assert.doesNotMatch(text.output, /hunter2/)

    const json = await runValidate([bad], { json: true, env: {} })
    assert.equal(json.exitCode, 1)
    const doc = JSON.parse(json.output) as { ok: boolean; files: { file: string; ok: boolean; issues: { path: string }[] }[] }
    assert.equal(doc.ok, false)
    assert.deepEqual(doc.files[0]?.issues.map((i) => i.path).sort(), ['extract.connectionParams.subscribe', 'extract.topc', 'streamingConfigJson.triggerMode'])

    const missing = await runValidate([join(dir, 'nope.json')], { json: true, env: {} })
    assert.equal(missing.exitCode, 1)
    assert.match(missing.output, /CONFIG_UNREADABLE/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test("upsert without upsertKeys (the seed's shape) is valid; the summary says which key run uses", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-validate-'))
  try {
    const pipeline = (load: Record<string, unknown>) => ({
      pipelineId: 'up',
      extract: { sourceType: 'file', path: './in' },
      load: { sinkType: 'postgresql', table: 'users', writeMode: 'upsert', embedded: true, ...load },
    })
    await writeFile(join(dir, 'table-key.json'), JSON.stringify(pipeline({})))
    await writeFile(join(dir, 'schema-key.json'), JSON.stringify(pipeline({ schemaName: 'users' })))
    await writeFile(join(dir, 'given.json'), JSON.stringify(pipeline({ upsertKeys: 'id, region' })))
    await mkdir(join(dir, 'schemas'))
    await writeFile(join(dir, 'schemas', 'users.json'), JSON.stringify({ columns: { id: 'bigint', name: 'text' }, primaryKey: ['id'] }))
    const { exitCode, output } = await runValidate(['table-key.json', 'schema-key.json', 'given.json'].map((f) => join(dir, f)), { env: {} })
    assert.equal(exitCode, 0, output)
    assert.match(output, /table-key\.json: valid[^]*table public\.users \(upsert on the table's primary key or its one unique constraint, looked up at start\)/)
    assert.match(output, /schema-key\.json: valid[^]*table public\.users \(upsert on id, the load schema's primaryKey\)/)
    assert.match(output, /given\.json: valid[^]*table public\.users \(upsert on id, region\)/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('registerValidate: --json flag, exit code through process.exitCode, usage error without a file', async () => {
  const program = new Command('sluice').exitOverride()
  const writes: string[] = []
  registerValidate(program, (t) => writes.push(t))
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  const saved = process.exitCode
  try {
    await program.parseAsync(['node', 'sluice', 'validate', '--json', ...examples])
    assert.equal(process.exitCode, 0)
    assert.equal((JSON.parse(writes.join('')) as { ok: boolean }).ok, true)
    await assert.rejects(program.parseAsync(['node', 'sluice', 'validate']), (err: { exitCode?: number }) => err.exitCode === 1 && true)
  } finally {
    process.exitCode = saved
  }
})

test('no secret is echoed: mistyped secret keys by name only, URL passwords with a raw @ fully masked (text and --json)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-validate-secret-'))
  try {
    const base = { pipelineId: 'x', extract: { sourceType: 'generator', fields: { id: { type: 'sequence' } } } }
    const typo = join(dir, 'typo.json')
    await writeFile(typo, JSON.stringify({ ...base, load: { sinkType: 'pg', table: 't', connectionParams: { host: 'h', pasword: 'Hunter2-typo', passwrod: 'Hunter2-swap' } } }))
    const sasl = join(dir, 'sasl.json')
    await writeFile(
      sasl,
      JSON.stringify({
        ...base,
        extract: { sourceType: 'kafka', topic: 't', connectionParams: { 'kafka.bootstrap.servers': 'k:9092', 'kafka.sasl.pasword': 'Hunter2-sasl', 'sasl.pasword': 'Hunter2-unprefixed' } },
        load: { sinkType: 'pg', table: 't', connectionParams: { host: 'h' } },
      }),
    )
    const url = join(dir, 'url.json')
    await writeFile(url, JSON.stringify({ ...base, load: { sinkType: 'pg', table: 't', connectionParams: { url: 'postgres://u:Hun@ter2@w@db.example/app' } } }))
    for (const json of [false, true]) {
      const r = await runValidate([typo, sasl, url], { json, env: {} })
      assert.doesNotMatch(r.output, /Hunter2|Hun@ter|ter2@w|@w@/, r.output)
      assert.match(r.output, /load\.connectionParams\.pasword/)
      assert.match(r.output, /load\.connectionParams\.passwrod/)
      assert.match(r.output, /sasl\.pasword/)
      assert.match(r.output, /kafka\.sasl\.pasword[\s\S]*?did you mean[\s\S]*?kafka\.sasl\.password/)
      assert.match(r.output, /postgres:\/\/u:\*\*\*@db\.example\/app/)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('validate refuses what run refuses: missing or malformed schema files, malformed table names', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-validate-run-'))
  try {
    const base = { pipelineId: 'x', extract: { sourceType: 'generator', fields: { id: { type: 'sequence' } } }, load: { sinkType: 'pg', table: 't', embedded: true } }
    const write = async (name: string, config: unknown) => {
      const file = join(dir, name)
      await writeFile(file, JSON.stringify(config))
      return file
    }
    const missing = await write('missing.json', { ...base, extract: { ...base.extract, schemaName: 'no-such-record-schema' }, load: { ...base.load, schemaName: 'no-such-table-schema' } })
    const r = await runValidate([missing], { json: true, env: {} })
    assert.equal(r.exitCode, 1)
    const doc = JSON.parse(r.output) as { files: { issues: { path: string; message: string }[] }[] }
    const issues = doc.files[0]?.issues ?? []
    assert.deepEqual(issues.map((i) => i.path), ['extract.schemaName', 'load.schemaName'])
    assert.match(issues[0]?.message ?? '', /no-such-record-schema" not found/)

    await mkdir(join(dir, 'schemas'))
    await writeFile(join(dir, 'schemas', 'broken.json'), '{ "columns": ')
    await writeFile(join(dir, 'schemas', 'shapeless.json'), '{ "columns": ["id"] }')
    const broken = await write('broken.json', { ...base, load: { ...base.load, schemaName: 'broken' } })
    const shapeless = await write('shapeless.json', { ...base, load: { ...base.load, schemaName: 'shapeless' } })
    const text = await runValidate([broken, shapeless], { env: {} })
    assert.equal(text.exitCode, 1)
    assert.match(text.output, /load\.schemaName: schema file .*broken\.json is not valid JSON/)
    assert.match(text.output, /load\.schemaName: load schema "shapeless": "columns" must be an object/)

    for (const table of ['public.', '.t', 'a.b.c', '"unclosed', 'ab"c"']) {
      const file = await write('table.json', { ...base, load: { ...base.load, table } })
      const t = await runValidate([file], { env: {} })
      assert.equal(t.exitCode, 1, table)
      assert.match(t.output, /load\.table: table name /, table)
    }
    const dlq = await write('dlq.json', { ...base, errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'dlq.' } } })
    assert.match((await runValidate([dlq], { env: {} })).output, /errorHandlingConfig\.dlqConfig\.table: table name/)
    const lateStreaming = (dlqTopic: string) => ({
      ...base,
      mode: 'streaming',
      extract: { sourceType: 'generator', fields: { id: { type: 'sequence' }, t: { type: 'timestamp' } } },
      streamingConfigJson: { checkpointLocation: join(dir, 'ck'), queryName: 'q', watermark: { eventTimeColumn: 't', delayThreshold: '1 minute' }, lateDataConfig: { strategy: 'sendtodlq', dlqTopic } },
    })
    const lateTable = await write('late.json', lateStreaming('late.'))
    assert.match((await runValidate([lateTable], { env: {} })).output, /lateDataConfig\.dlqTopic: a table here \(the pipeline has no Kafka\): table name/)
    const fine = await write('fine.json', { ...lateStreaming('late_rows'), load: { ...base.load, table: '"Sales"."Orders.2026"' } })
    const ok = await runValidate([fine], { env: {} })
    assert.equal(ok.exitCode, 0, ok.output)
    assert.match(ok.output, /dlq table Sales\."Orders\.2026_dlq"/, 'the default DLQ table beside a quoted table name')
    // A qualified name is shown as written, not prefixed with the connection's schema.
    assert.match(ok.output, /load      postgresql table "Sales"\."Orders\.2026" \(append\)/)
    assert.doesNotMatch(ok.output, /public\."Sales"/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a {topic} template: the summary shows the template and its rule, the fixed DLQ table; the key an upsert needs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-validate-'))
  try {
    const pipeline = (load: Record<string, unknown>) => ({
      pipelineId: 'routed',
      extract: { sourceType: 'kafka', connectionParams: { 'kafka.bootstrap.servers': 'k:9092', subscribePattern: 'shop\\..*' } },
      load: { sinkType: 'postgresql', table: 'raw_{topic}', connectionParams: { host: 'db', database: 'app', currentSchema: 'landing' }, ...load },
    })
    await writeFile(join(dir, 'append.json'), JSON.stringify(pipeline({})))
    await writeFile(join(dir, 'qualified.json'), JSON.stringify(pipeline({ table: 'mirror.{topic}', writeMode: 'upsert', upsertKeys: ['id'] })))
    await writeFile(join(dir, 'nokey.json'), JSON.stringify(pipeline({ writeMode: 'upsert', schemaName: 'nokey' })))
    await mkdir(join(dir, 'schemas'))
    await writeFile(join(dir, 'schemas', 'nokey.json'), JSON.stringify({ columns: { id: 'bigint' } }))
    const ok = await runValidate(['append.json', 'qualified.json'].map((f) => join(dir, f)), { env: {} })
    assert.equal(ok.exitCode, 0, ok.output)
    assert.match(ok.output, /append\.json: valid[^]*load      postgresql tables landing\.raw_\{topic\} \(one per Kafka topic, \{topic\} the topic with characters outside \[A-Za-z0-9_\] as _\) \(append\)/)
    assert.match(ok.output, /append\.json: valid[^]*dlq table raw_topic_dlq/)
    assert.match(ok.output, /qualified\.json: valid[^]*tables mirror\.\{topic\} \(one per Kafka topic[^\n]*\(upsert on id\)[^]*dlq table mirror\.topic_dlq/)
    const bad = await runValidate([join(dir, 'nokey.json')], { env: {} })
    assert.equal(bad.exitCode, 1)
    assert.match(bad.output, /load\.upsertKeys: required with the \{topic\} template "raw_\{topic\}" in load\.table: the load schema "nokey" has no primaryKey/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
