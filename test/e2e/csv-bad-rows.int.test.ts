/**
 * CSV files with bad rows, loaded through the CLI into a real PostgreSQL: every record that starts
 * on a line of a file ends in the table or in the DLQ (RECORD_DECODE, with file and line), values
 * keep PostgreSQL's CSV meaning (unquoted empty = NULL, "" = empty string), and a bad record never
 * takes the records after it along (the old parser lost everything after `1,5" screen`).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createTestSchema, pgSettings, type TestSchema } from '../helpers/pg.ts'
import { runSluice, writePipeline } from '../helpers/cli.ts'

/** One file: its text, then what each record (by its first line) must become. */
interface CsvCase {
  readonly name: string
  readonly text: string
  /** line -> the row [id, name, note] or a DLQ reason pattern */
  readonly expect: Readonly<Record<number, readonly [number, string | null, string | null] | RegExp>>
}

const FILES: readonly CsvCase[] = [
  {
    name: 'a.csv',
    text: 'id,name,note\n1,tv,5" screen\n2,"Smith, J","say ""hi"""\n3,,""\n4,x,y,extra\n5,only\n6,ok,fine\n',
    expect: {
      2: /a\.csv line 2: not valid CSV: stray quote in unquoted field 3/,
      3: [2, 'Smith, J', 'say "hi"'],
      4: [3, null, ''],
      5: /a\.csv line 5: too many fields: 4, the header has 3/,
      6: /a\.csv line 6: too few fields: 2, the header has 3/,
      7: [6, 'ok', 'fine'],
    },
  },
  {
    name: 'b.csv',
    text: 'id,name,note\r\n10,"multi\r\nline",n\r\n11,"abc"def,n\r\n12,after,n\r\n13,"never closed,n\r\n14,tail,n\r\n',
    expect: {
      2: [10, 'multi\nline', 'n'],
      4: /b\.csv line 4: not valid CSV: unexpected "d" after the closing quote of field 2/,
      5: [12, 'after', 'n'],
      6: /b\.csv line 6: not valid CSV: quoted field is not closed before the end of the file/,
      7: [14, 'tail', 'n'],
    },
  },
  {
    name: 'c.csv',
    text: 'id,name,note\n20,a,b\n\n21,"x ""q"" y","a,b\nc"\n22,c,d',
    expect: {
      2: [20, 'a', 'b'],
      4: [21, 'x "q" y', 'a,b\nc'],
      6: [22, 'c', 'd'],
    },
  },
]

describe('CSV files with bad rows, through the CLI into PostgreSQL', () => {
  const schemas: TestSchema[] = []
  after(async () => {
    await Promise.all(schemas.map((s) => s.drop()))
  })

  test('every record ends in the table or the DLQ with file and line; good records after bad ones load', async () => {
    const s = await createTestSchema('csvbad')
    schemas.push(s)
    await s.pool.query('CREATE TABLE items (id bigint PRIMARY KEY, name text, note text)')
    const pg = pgSettings()
    const { file, dir } = await writePipeline((d: string) => ({
      pipelineId: 'csv-bad-rows',
      mode: 'streaming',
      extract: { sourceType: 'file', path: join(d, 'in'), format: 'csv', pattern: '*.csv', stableMs: 0 },
      load: { sinkType: 'postgresql', table: 'items', writeMode: 'append', connectionParams: { host: pg.host, port: pg.port, database: pg.database, user: pg.user, currentSchema: s.schema } },
      streamingConfigJson: { checkpointLocation: join(d, 'checkpoint'), queryName: 'csv-bad-rows', triggerMode: 'availablenow', maxFilesPerTrigger: 2 },
      errorHandlingConfig: { dlqConfig: { dlqType: 'postgresql', table: 'items_dlq' } },
    }))
    const input = join(dir, 'in')
    await mkdir(input)
    const past = new Date('2026-01-01T00:00:00Z')
    for (const f of FILES) {
      await writeFile(join(input, f.name), f.text)
      await utimes(join(input, f.name), past, past)
    }
    const result = await runSluice(['run', file])
    assert.equal(result.code, 0, result.stderr.slice(-3000) + result.stdout.slice(-3000))

    const rows = await s.pool.query<{ id: string; name: string | null; note: string | null }>('SELECT id, name, note FROM items ORDER BY id')
    const dlq = await s.pool.query<{ topic: string; offset: string; code: string; reason: string; value: Buffer }>(
      'SELECT "sluice.source.topic" AS topic, "sluice.source.offset" AS offset, "sluice.error.code" AS code, "sluice.error.reason" AS reason, value FROM items_dlq',
    )
    const table = new Map(rows.rows.map((r) => [Number(r.id), [Number(r.id), r.name, r.note] as const]))
    // The reason names the line the record starts on (the offset is its row number after the header).
    const dead = new Map(dlq.rows.map((r) => [`${r.topic}:${/ line (\d+): /.exec(r.reason)?.[1]}`, r]))
    let expectedRows = 0
    let expectedDead = 0
    for (const f of FILES) {
      const lines = f.text.split(/\r?\n/)
      for (const [lineText, want] of Object.entries(f.expect)) {
        const line = Number(lineText)
        if (want instanceof RegExp) {
          expectedDead++
          const letter = dead.get(`${f.name}:${line}`)
          assert.ok(letter, `${f.name} line ${line} is in the DLQ; DLQ: ${JSON.stringify(dlq.rows.map((r) => [r.topic, r.offset, r.reason]))}`)
          assert.equal(letter.code, 'RECORD_DECODE')
          assert.match(letter.reason, want)
          assert.equal(letter.value.toString(), lines[line - 1], 'the DLQ keeps the bad line as it was')
          assert.ok(letter.reason.startsWith(`${f.name} line ${line}: `), letter.reason)
        } else {
          expectedRows++
          assert.deepEqual(table.get(want[0]), want, `${f.name} line ${line} is in the table`)
        }
      }
    }
    assert.equal(rows.rowCount, expectedRows, 'no other rows in the table')
    assert.equal(dlq.rowCount, expectedDead, 'no other dead letters')
    const tracker = await s.pool.query<{ n: string }>('SELECT sum(record_count) AS n FROM batch_tracker')
    assert.equal(Number(tracker.rows[0]?.n), expectedRows + expectedDead, 'the tracker counts every record read')
  })
})
