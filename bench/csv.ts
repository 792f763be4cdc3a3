/**
 * CSV parsing speed: Sluice's parser (src/components/sources/file/csv.ts) against csv-parse on the
 * same 300,000-record file in memory, read in 256 KiB chunks as the file source reads. Prints
 * records/s for each (best of 3). `npx node bench/csv.ts`; no servers needed.
 */
import { Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { csvRecords } from '../src/components/sources/file/csv.ts'
import { splitLines } from '../src/components/sources/file/lines.ts'

const RECORDS = 300_000
const CHUNK = 256 * 1024
const rows = ['id,user,amount,note,ts']
for (let i = 0; i < RECORDS; i++) {
  const note = i % 10 === 0 ? '"has, comma ""q"""' : 'plain text here'
  rows.push(`${i},user_${i % 977},${(i * 1.37).toFixed(2)},${note},2026-11-25T10:${String(i % 60).padStart(2, '0')}:00Z`)
}
const text = Buffer.from(`${rows.join('\n')}\n`)

function chunks(): Readable {
  const out: Buffer[] = []
  for (let i = 0; i < text.length; i += CHUNK) out.push(text.subarray(i, i + CHUNK))
  return Readable.from(out)
}

const candidates: Record<string, () => Promise<number>> = {
  async sluice() {
    let n = 0
    for await (const batch of csvRecords(splitLines(chunks()), { delimiter: ',' })) for (const r of batch) if (r.ok) n++
    return n
  },
  async 'csv-parse (defaults)'() {
    let n = 0
    for await (const _ of chunks().pipe(parse({}))) n++
    return n
  },
  async 'csv-parse (NULL vs "", raw, info)'() {
    let n = 0
    const parser = parse({ raw: true, info: true, record_delimiter: ['\r\n', '\n'], cast: (v, c) => (v === '' && !c.quoting ? null : v) })
    for await (const _ of chunks().pipe(parser)) n++
    return n
  },
}

for (const [name, run] of Object.entries(candidates)) {
  let best = 0
  for (let k = 0; k < 3; k++) {
    const started = performance.now()
    const n = await run()
    if (n !== RECORDS + 1) throw new Error(`${name}: ${n} records, expected ${RECORDS + 1}`)
    best = Math.max(best, RECORDS / ((performance.now() - started) / 1000))
  }
  console.log(`${name.padEnd(36)} ${Math.round(best).toLocaleString('en')} records/s`)
}
