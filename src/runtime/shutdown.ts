/**
 * The process-wide shutdown request. bin/sluice.js installs it first thing, before the rest of
 * Sluice (about 150 modules) and the pipeline files are loaded, so that a SIGTERM in the first
 * second never meets Node's default handler (which ends the process with 143 and no word). This
 * module therefore imports nothing.
 *
 * - `sluice run` (graceful): a signal while Sluice is still loading (before the run command took
 *   the signals over, signals.ts) exits 0 at once: nothing has started. Later, the first SIGTERM,
 *   SIGINT or SIGHUP aborts `shutdownRequested`: the run stops fetching and lets the batch in
 *   flight commit. A second signal exits at once with 128 + the signal number (143, 130, 129):
 *   the open transaction rolls back, nothing is half-committed.
 * - Other commands (short-lived): a signal exits at once with 128 + the signal number.
 * - Started by npm (`npm run`, `npx`): npm does not always pass signals on (`npx` runs the bin
 *   through a shell that dies of a SIGTERM without forwarding it), so when the parent process goes
 *   away Sluice takes that as a SIGTERM instead of running on as an orphan.
 */

export type ShutdownSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP'

/** 128 + the signal number: what a shell reports for a process ended by that signal. */
export const SIGNAL_EXIT_CODES: Readonly<Record<ShutdownSignal, number>> = { SIGTERM: 143, SIGINT: 130, SIGHUP: 129 }

const SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP']
const PARENT_POLL_MS = 500

/** Called for every signal; `count` is 1 for the first. Returning nothing; the module exits on the second. */
export type ShutdownListener = (signal: ShutdownSignal, count: number, reason: string) => void

const controller = new AbortController()
const listeners = new Set<ShutdownListener>()
let installed = false
let graceful = false
let count = 0
let first: { signal: ShutdownSignal; reason: string } | null = null

/** Aborted by the first signal (or the parent's exit, when started by npm). */
export const shutdownRequested: AbortSignal = controller.signal

/** The first signal received and why, if any. */
export function shutdownCause(): { readonly signal: ShutdownSignal; readonly reason: string } | null {
  return first
}

export interface ShutdownOptions {
  /** Graceful (sluice run): the first signal asks to stop, the second exits. Else a signal exits. */
  readonly graceful: boolean
  /** Environment to tell an npm launch from others (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Signals bin/sluice.js received before this module was loaded, in order. */
  readonly held?: readonly string[]
}

/** Installs the SIGTERM/SIGINT/SIGHUP handlers once; a later call can only turn graceful on. */
export function installShutdownHandlers(options: ShutdownOptions): void {
  if (options.graceful) graceful = true
  if (installed) return
  installed = true
  for (const signal of SIGNALS) process.on(signal, () => receive(signal, `received ${signal}`))
  const env = options.env ?? process.env
  if (env.npm_command !== undefined || env.npm_lifecycle_event !== undefined) watchParent()
  for (const signal of options.held ?? []) {
    if ((SIGNALS as readonly string[]).includes(signal)) receive(signal as ShutdownSignal, `received ${signal} while starting`)
  }
}

/** The `sluice run` argv test used by bin/sluice.js before anything is parsed: first non-option word. */
export function isRunCommand(argv: readonly string[]): boolean {
  return argv.slice(2).find((a) => !a.startsWith('-')) === 'run'
}

/** Listens to signals; the listener is called at once if one was received already. Returns an unsubscribe. */
export function onShutdown(listener: ShutdownListener): () => void {
  listeners.add(listener)
  if (first !== null) listener(first.signal, count, first.reason)
  return () => listeners.delete(listener)
}

function receive(signal: ShutdownSignal, reason: string): void {
  count++
  if (first === null) first = { signal, reason }
  if (graceful && listeners.size === 0) {
    // `sluice run` is still loading (or done): no pipeline is running, so there is nothing to finish.
    process.stderr.write(`sluice: ${reason} while no pipeline was running: stopped\n`)
    process.exit(0)
  }
  for (const listener of listeners) listener(signal, count, reason)
  if (!graceful || count > 1) process.exit(SIGNAL_EXIT_CODES[signal])
  controller.abort()
}

/** When npm (or the shell it started) is gone, nobody will pass a signal on: stop as for SIGTERM. */
function watchParent(): void {
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    receive('SIGTERM', `the parent process ${parent} (npm) exited`)
  }, PARENT_POLL_MS)
  timer.unref()
}
