/** `sluice run <pipeline.json...>`: runs pipelines until their trigger is drained or a signal stops them. */
import { type Command, Option } from 'commander'
import { loadPipelineFile } from '../../config/index.ts'
import { toSluiceError } from '../../errors.ts'
import { EngineEvents } from '../../engine/events.ts'
import { workerId } from '../../engine/worker-id.ts'
import { createLogger } from '../../observability/logger.ts'
import { attachMetrics, createMetrics } from '../../observability/metrics.ts'
import { QueryStatusBoard } from '../../observability/status.ts'
import { type HttpServer, type ReadinessResult, startHttpServer } from '../../observability/http.ts'
import type { LogLevel } from '../../observability/logger.ts'
import type { AssembledPipeline } from '../../runtime/assemble.ts'
import { type LoadedPipeline, runPipelines } from '../../runtime/run.ts'
import { readiness } from '../../runtime/readiness.ts'
import { installSignals } from '../../runtime/signals.ts'
import { printSummary } from '../output.ts'
import { logLevelOption, parseHostName, parsePort } from '../options.ts'
import { startProgress } from '../progress.ts'
import { oneLine, reportError } from '../report-error.ts'

interface RunFlags {
  httpPort?: number
  httpHost?: string
  httpAllowedHost?: string[]
  json?: boolean
  logLevel?: LogLevel
}

/** Adds the `run` command. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one or more pipelines (each an independent query)')
    .argument('<pipelines...>', 'pipeline JSON files')
    .addOption(new Option('--http-port <port>', 'serve /metrics, /health, /ready and /status on this port (default: monitoring.httpPort)').argParser(parsePort))
    .option('--http-host <host>', 'address to bind the HTTP endpoint to (default: monitoring.httpHost, 127.0.0.1)')
    .addOption(
      new Option('--http-allowed-host <name>', 'also answer requests whose Host header names this host (repeatable; default: monitoring.httpAllowedHosts)').argParser(parseHostName),
    )
    .option('--json', 'print a machine-readable summary at exit (logs then go to stderr)')
    .addOption(logLevelOption())
    .action(async (files: string[], flags: RunFlags, command: Command) => {
      // SLUICE_LOG_LEVEL fills --log-level, but a pipeline file's monitoring.logLevel outranks it.
      process.exitCode = await runCommand(files, flags, command.getOptionValueSource('logLevel') === 'env')
    })
}

async function runCommand(files: string[], flags: RunFlags, levelFromEnv: boolean): Promise<number> {
  const pipelines: LoadedPipeline[] = []
  for (const file of files) {
    try {
      pipelines.push(await loadPipelineFile(file))
    } catch (err) {
      return reportError(toSluiceError(err), Boolean(flags.json))
    }
  }
  const first = pipelines[0]?.config.monitoring
  const level = levelFromEnv ? (first?.logLevel ?? flags.logLevel) : (flags.logLevel ?? first?.logLevel)
  const logger = createLogger({
    ...(level !== undefined ? { level } : {}),
    ...(flags.json ? { destination: process.stderr, pretty: Boolean(process.stderr.isTTY) } : {}),
  })
  const events = new EngineEvents()
  const metrics = createMetrics(undefined, { worker: workerId() })
  attachMetrics(events, metrics)
  const board = new QueryStatusBoard(events)
  let assembledPipelines: readonly AssembledPipeline[] | null = null
  const starting: ReadinessResult = { ok: false, checks: { pipelines: 'starting' } }
  // The endpoint is bound before any pipeline starts: a port in use stops the run at once, cleanly.
  const port = flags.httpPort ?? first?.httpPort
  let server: HttpServer | null = null
  if (port !== undefined) {
    const host = flags.httpHost ?? first?.httpHost ?? '127.0.0.1'
    try {
      server = await startHttpServer({
        host,
        port,
        allowedHosts: flags.httpAllowedHost ?? first?.httpAllowedHosts ?? [],
        registry: metrics.registry,
        status: board,
        ready: () => (assembledPipelines === null ? Promise.resolve(starting) : readiness(assembledPipelines)),
        live: () => true,
      })
    } catch (err) {
      process.stderr.write(`sluice: cannot serve the HTTP endpoint on ${host}:${port}: ${listenProblem(err)}\n`)
      return 2
    }
    // The bound port, not the configured one: port 0 picks a free port.
    logger.info({ host, port: server.port, url: server.url }, 'HTTP endpoint listening (/ status page, /metrics /health /ready /status)')
  }
  const stopProgress = flags.json ? () => {} : startProgress(events)
  const signals = installSignals(pipelines.map((p) => p.config.monitoring.shutdownTimeoutSeconds), logger)
  if (signals.stop.aborted) {
    // A signal arrived while Sluice was loading: nothing has started, so nothing is left to finish.
    logger.info('stopped before any pipeline started')
    await server?.close()
    signals.dispose()
    stopProgress()
    return 0
  }
  const outcomes = await runPipelines(pipelines, {
    logger,
    events,
    stop: signals.stop,
    abort: signals.abort,
    onStarted: (assembled) => {
      for (const a of assembled) board.register(a.config.pipelineId, a.streaming.queryName)
      assembledPipelines = assembled
    },
  })
  await server?.close()
  signals.dispose()
  stopProgress()
  printSummary(outcomes, Boolean(flags.json))
  return outcomes.every((o) => o.ok) ? 0 : 1
}

/** Why listening failed, in words (the errno code alone means little to most users). */
function listenProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is already in use (choose another with --http-port or monitoring.httpPort)'
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)'
    case 'EADDRNOTAVAIL':
      return 'the address is not one of this machine (check --http-host or monitoring.httpHost)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve (check --http-host or monitoring.httpHost)'
    default:
      return oneLine(err)
  }
}
