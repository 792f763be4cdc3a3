/**
 * Runs the real `sluice` CLI in a child process (the same Node binary as the tests), so that
 * crash tests can kill it with SIGKILL and restart it like an operator would.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The production command (bin/sluice.js), as the README says to start Sluice. */
export const cliPath = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url))
/** The project folder (where package.json is). */
export const projectDir = fileURLToPath(new URL('../..', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** A running CLI process with its collected output. */
export interface RunningCli {
  readonly child: ChildProcess
  readonly done: Promise<CliResult>
  output(): string
}

/** Starts `sluice <args>`; `env` is added to the test's environment. */
export function startSluice(args: readonly string[], env: Record<string, string> = {}): RunningCli {
  return startCommand([process.execPath, cliPath, ...args], env)
}

/**
 * Starts any command (`npx sluice run ...`, `sh -c 'umask 000; exec ...'`, the production command)
 * with the same environment and output collection as startSluice; `cwd` defaults to the project.
 */
export function startCommand(command: readonly string[], env: Record<string, string> = {}, cwd: string = projectDir): RunningCli {
  const [file, ...args] = command as [string, ...string[]]
  const child = spawn(file, args, {
    cwd,
    env: { ...process.env, SLUICE_LOG_LEVEL: process.env.SLUICE_TEST_LOG_LEVEL ?? 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<CliResult>((resolve) => {
    child.on('exit', (code, signal) => {
      // Give the pipes a moment to drain.
      setTimeout(() => resolve({ code, signal, stdout, stderr }), 20)
    })
  })
  return { child, done, output: () => stdout + stderr }
}

/** Runs `sluice <args>` to completion, killing it after `timeoutMs`. */
export async function runSluice(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  const running = startSluice(args, env)
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs)
  try {
    return await running.done
  } finally {
    clearTimeout(timer)
  }
}

/** Waits until `predicate` holds on the process output, or throws after `timeoutMs`. */
export async function waitForOutput(running: RunningCli, predicate: (out: string) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate(running.output())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for output; got:\n${running.output().slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Writes a pipeline JSON file into a fresh temp folder; returns its path. */
export async function writePipeline(config: unknown | ((dir: string) => unknown), files: Record<string, string> = {}): Promise<{ file: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-e2e-'))
  const file = join(dir, 'pipeline.json')
  await writeFile(file, JSON.stringify(typeof config === 'function' ? config(dir) : config, null, 2))
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content)
  return { file, dir }
}

/** The `sluice run` workers a test starts; `killAll` SIGKILLs those still running (a test's finally). */
export function workerSet(): { readonly all: RunningCli[]; start(file: string): RunningCli; killAll(): void } {
  const all: RunningCli[] = []
  return {
    all,
    start(file: string): RunningCli {
      const w = startSluice(['run', file])
      all.push(w)
      return w
    },
    killAll(): void {
      for (const w of all) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
    },
  }
}

/** Polls `check` until it holds; on timeout fails with the workers' last output. */
export async function waitUntil(what: string, check: () => Promise<boolean>, workers: readonly RunningCli[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${workers.map((w) => w.output().slice(-3000)).join('\n----\n')}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
