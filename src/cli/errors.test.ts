/**
 * No stack trace reaches a user: every command, started as a user starts it, with bad option values
 * and missing, unreadable, malformed or invalid files, answers with clear lines and exit 1 (the
 * pipeline or its file is bad) or 2 (usage: a bad option or argument), never with Node's trace.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('./main.ts', import.meta.url))
const srcDir = fileURLToPath(new URL('../', import.meta.url))

interface Result {
  code: number | null
  out: string
  err: string
}

function sluice(args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, SLUICE_LOG_LEVEL: 'info', SLUICE_DEBUG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out, err })
    })
  })
}

/** Runs `jobs` a few at a time (the machine is shared). */
async function pooled<T>(jobs: (() => Promise<T>)[], width = 3): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length)
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++
        results[i] = await (jobs[i] as () => Promise<T>)()
      }
    }),
  )
  return results
}

function assertNoTrace(label: string, r: Result): void {
  const all = r.out + r.err
  assert.doesNotMatch(all, /^\s+at /m, `${label}: stack frame in\n${all}`)
  assert.doesNotMatch(all, /node:internal|node_modules/, `${label}: Node internals in\n${all}`)
  assert.ok(!all.includes(srcDir), `${label}: source path in\n${all}`)
  assert.doesNotMatch(all, /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b/, `${label}: a raw JS error in\n${all}`)
}

test('every command, bad values and bad files: clear lines, exit 1 or 2, never a stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-errors-'))
  const busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  const busyPort = (busy.address() as { port: number }).port
  try {
    const good = join(dir, 'good.json')
    await writeFile(good, JSON.stringify({ pipelineId: 'g', extract: { sourceType: 'generator', fields: { id: { type: 'sequence' } }, totalRecords: 1 }, load: { sinkType: 'pg', table: 't', connectionParams: { url: `pglite://${join(dir, 'db')}` } } }))
    const down = join(dir, 'down.json')
    await writeFile(down, JSON.stringify({ pipelineId: 'd', extract: { sourceType: 'generator', fields: { id: { type: 'sequence' } }, totalRecords: 1 }, load: { sinkType: 'pg', table: 't', connectionParams: { host: '127.0.0.1', port: 1, database: 'x', user: 'u' } } }))
    const malformed = join(dir, 'malformed.json')
    await writeFile(malformed, '{ "pipelineId": "m", "password": "hunter2" ')
    const garbage = join(dir, 'garbage.json')
    await writeFile(garbage, Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b]))
    const invalid = join(dir, 'invalid.json')
    await writeFile(invalid, JSON.stringify({ pipelineId: 'bad id!', extract: { sourceType: 'nope' }, load: { table: 'public.' } }))
    const folder = join(dir, 'folder.json')
    await mkdir(folder)
    const missing = join(dir, 'missing.json')
    const badFiles = { missing, folder, malformed, garbage, invalid }

    type Case = { label: string; args: string[]; env?: Record<string, string>; exit: number; line?: RegExp; oneLine?: boolean }
    const cases: Case[] = [
      { label: 'run --http-port 70000', args: ['run', good, '--http-port', '70000'], exit: 2, line: /--http-port.*'70000' is invalid.*0 to 65535/, oneLine: true },
      { label: 'run --http-port abc', args: ['run', good, '--http-port', 'abc'], exit: 2, line: /--http-port.*'abc' is invalid/, oneLine: true },
      { label: 'run --http-port 1.5', args: ['run', good, '--http-port', '1.5'], exit: 2, oneLine: true },
      { label: 'run --http-port <in use>', args: ['run', good, '--http-port', String(busyPort)], exit: 2, line: /already in use/, oneLine: true },
      { label: 'run --http-host not local', args: ['run', good, '--http-port', '0', '--http-host', '192.0.2.1'], exit: 2, line: /cannot serve the HTTP endpoint on 192\.0\.2\.1/, oneLine: true },
      { label: 'run --http-allowed-host bad', args: ['run', good, '--http-allowed-host', 'a b'], exit: 2, oneLine: true },
      { label: 'run --log-level verbose', args: ['run', good, '--log-level', 'verbose'], exit: 2, line: /--log-level.*'verbose' is invalid/, oneLine: true },
      { label: 'SLUICE_LOG_LEVEL=verbose run', args: ['run', good], env: { SLUICE_LOG_LEVEL: 'verbose' }, exit: 2, line: /'verbose' from env 'SLUICE_LOG_LEVEL' is invalid/, oneLine: true },
      { label: 'cleanup --retention-days x', args: ['cleanup', good, '--retention-days', 'x'], exit: 2, line: /--retention-days.*'x' is invalid/, oneLine: true },
      { label: 'cleanup --retention-days 1.5', args: ['cleanup', good, '--retention-days', '1.5'], exit: 2, oneLine: true },
      { label: 'BATCH_RETENTION_DAYS=-3 cleanup', args: ['cleanup', good], env: { BATCH_RETENTION_DAYS: '-3' }, exit: 2, line: /BATCH_RETENTION_DAYS/, oneLine: true },
      { label: 'no command', args: ['frobnicate'], exit: 2, oneLine: true },
      { label: 'unknown option', args: ['status', good, '--frob'], exit: 2, oneLine: true },
      { label: 'sql without query', args: ['sql', good], exit: 2, oneLine: true },
      { label: 'validate without file', args: ['validate'], exit: 2, oneLine: true },
      { label: 'schema -o into a missing folder', args: ['schema', '-o', join(dir, 'no', 'such', 'schema.json')], exit: 1, line: /ENOENT|no such file/, oneLine: true },
      { label: 'status, database down', args: ['status', down], exit: 1 },
      { label: 'cleanup, database down', args: ['cleanup', down], exit: 1 },
      { label: 'sql, database down', args: ['sql', down, 'SELECT 1'], exit: 1 },
      { label: 'status --json, database down', args: ['status', down, '--json'], exit: 1 },
    ]
    const commands: [string, (file: string) => string[]][] = [
      ['run', (f) => ['run', f]],
      ['validate --json', (f) => ['validate', '--json', f]],
      ['status', (f) => ['status', f]],
      ['cleanup --json', (f) => ['cleanup', f, '--json']],
      ['sql', (f) => ['sql', f, 'SELECT 1']],
    ]
    for (const [name, args] of commands) {
      for (const [kind, file] of Object.entries(badFiles)) cases.push({ label: `${name} with a ${kind} file`, args: args(file), exit: 1 })
    }
    const results = await pooled(cases.map((c) => () => sluice(c.args, c.env)))
    cases.forEach((c, i) => {
      const r = results[i] as Result
      const all = r.out + r.err
      assertNoTrace(c.label, r)
      assert.equal(r.code, c.exit, `${c.label}: exit ${r.code}\n${all}`)
      if (c.line) assert.match(all, c.line, c.label)
      if (c.oneLine) assert.equal(all.trim().split('\n').length, 1, `${c.label}: one line, got\n${all}`)
      assert.doesNotMatch(all, /hunter2/, `${c.label}: a secret from the file`)
    })
  } finally {
    busy.close()
    await rm(dir, { recursive: true, force: true })
  }
})
