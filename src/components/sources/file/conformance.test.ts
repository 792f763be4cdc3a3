/**
 * The file source through the shared source conformance suite. The suite speaks in records
 * (maxRecords); the file source's limit is files (maxFilesPerTrigger) and it reads files whole,
 * so the fixture writes one record per file and hands maxRecords on as maxFiles.
 */
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nullLogger } from '../../../api/component.ts'
import type { Position } from '../../../api/position.ts'
import type { ReadLimits, Source } from '../../../api/source.ts'
import { sourceConformance } from '../../../../test/conformance/source-suite.ts'
import { FileSource } from './file-source.ts'

const PAST = new Date('2026-01-01T00:00:00Z')

sourceConformance('file (NDJSON, one record per file, maxRecords as maxFiles)', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-file-conf-'))
  await mkdir(join(base, 'in'))
  const files = new FileSource(
    { sourceType: 'file', path: 'in', format: 'json', order: 'name', cleanSource: 'off', csv: { header: true, delimiter: ',' } },
    { pipelineId: 'conformance', baseDir: base, logger: nullLogger, env: {} },
  )
  const source: Source = {
    open: (signal) => files.open(signal),
    initialPosition: (signal) => files.initialPosition(signal),
    plan: (from: Position, limits: ReadLimits, signal) => {
      const { maxRecords, ...rest } = limits
      return files.plan(from, maxRecords === undefined ? rest : { ...rest, maxFiles: maxRecords }, signal)
    },
    read: (from, to, signal) => files.read(from, to, signal),
    latest: (signal) => files.latest(signal),
    close: () => files.close(),
  }
  let count = 0
  return {
    source,
    async append(values) {
      for (const value of values) {
        const path = join(base, 'in', `part-${String(count++).padStart(6, '0')}.ndjson`)
        await writeFile(path, value + '\n')
        // An old modification time: the file is complete (see the stability rule in listing.ts).
        await utimes(path, PAST, PAST)
      }
    },
    close: () => rm(base, { recursive: true, force: true }),
  }
})
