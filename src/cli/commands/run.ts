/** `sluice run <pipeline.json...>`: runs pipelines until their trigger is drained or a signal stops them. */
import type { Command } from 'commander'
import { loadPipelineFile } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { EngineEvents } from '../../engine/events.ts'
import { createLogger } from '../../observability/logger.ts'
import { attachMetrics, createMetrics } from '../../observability/metrics.ts'
import { QueryStatusBoard } from '../../observability/status.ts'
import { startHttpServer } from '../../observability/http.ts'
import { type LoadedPipeline, runPipelines } from '../../runtime/run.ts'
import { readiness } from '../../runtime/readiness.ts'
import { installSignals } from '../../runtime/signals.ts'
import { printSummary } from '../output.ts'
import { startProgress } from '../progress.ts'

interface RunFlags {
  httpPort?: string
  httpHost?: string
  json?: boolean
  logLevel?: string
}

/** Adds the `run` command. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one or more pipelines (each an independent query)')
    .argument('<pipelines...>', 'pipeline JSON files')
    .option('--http-port <port>', 'serve /metrics, /health, /ready and /status on this port (default: monitoring.httpPort)')
    .option('--http-host <host>', 'address to bind the HTTP endpoint to (default 127.0.0.1)')
    .option('--json', 'print a machine-readable summary at exit (logs then go to stderr)')
    .option('--log-level <level>', 'trace|debug|info|warn|error (default: monitoring.logLevel, SLUICE_LOG_LEVEL, info)')
    .action(async (files: string[], flags: RunFlags) => {
      process.exitCode = await runCommand(files, flags)
    })
}

async function runCommand(files: string[], flags: RunFlags): Promise<number> {
  const pipelines: LoadedPipeline[] = []
  for (const file of files) {
    try {
      pipelines.push(await loadPipelineFile(file))
    } catch (err) {
      const error = toSluiceError(err)
      process.stderr.write(`${file}: ${error.message}\n`)
      const issues = error.details.issues
      if (Array.isArray(issues)) for (const i of issues as { path: string; message: string }[]) process.stderr.write(`  ${i.path}: ${i.message}\n`)
      return 1
    }
  }
  const first = pipelines[0]?.config.monitoring
  const logger = createLogger({
    ...(flags.logLevel ?? first?.logLevel ? { level: flags.logLevel ?? first?.logLevel } : {}),
    ...(flags.json ? { destination: process.stderr, pretty: Boolean(process.stderr.isTTY) } : {}),
  })
  const events = new EngineEvents()
  const metrics = createMetrics()
  attachMetrics(events, metrics)
  const board = new QueryStatusBoard(events)
  const stopProgress = flags.json ? () => {} : startProgress(events)
  const signals = installSignals(pipelines.map((p) => p.config.monitoring.shutdownTimeoutSeconds), logger)
  if (signals.stop.aborted) {
    // A signal arrived while Sluice was loading: nothing has started, so nothing is left to finish.
    logger.info('stopped before any pipeline started')
    signals.dispose()
    stopProgress()
    return 0
  }
  const port = flags.httpPort !== undefined ? Number(flags.httpPort) : first?.httpPort
  let server: { close(): Promise<void> } | null = null
  const outcomes = await runPipelines(pipelines, {
    logger,
    events,
    stop: signals.stop,
    abort: signals.abort,
    onStarted: async (assembled) => {
      for (const a of assembled) board.register(a.config.pipelineId, a.streaming.queryName)
      if (port !== undefined && Number.isInteger(port)) {
        const host = flags.httpHost ?? first?.httpHost ?? '127.0.0.1'
        const http = await startHttpServer({ host, port, registry: metrics.registry, status: board, ready: () => readiness(assembled), live: () => !signals.stop.aborted || true })
        server = http
        // The bound port, not the configured one: port 0 picks a free port.
        logger.info({ host, port: http.port, url: http.url }, 'HTTP endpoint listening (/metrics /health /ready /status)')
      }
    },
  })
  await (server as { close(): Promise<void> } | null)?.close()
  signals.dispose()
  stopProgress()
  printSummary(outcomes, Boolean(flags.json))
  return outcomes.every((o) => o.ok) ? 0 : 1
}
