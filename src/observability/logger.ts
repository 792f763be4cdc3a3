/**
 * Structured logs: pino JSON lines for machines, a compact human format when stdout is a terminal.
 * Secrets are kept out in three layers, all from the one redaction module (src/secrets.ts), because a
 * leaked password in a log aggregator is forever: secret-named keys of the logged object and of child
 * bindings are masked at any depth, message strings are scrubbed, and the finished line is scrubbed
 * once more (connection URLs with credentials, `password=...` pairs).
 * Batch log lines should come from `logger.child({ pipelineId, batchId })`.
 */
import { pino, type Logger as PinoLogger, type LogFn } from 'pino'
import { SluiceError } from '../errors.ts'
import { redactSecrets, redactText } from '../secrets.ts'

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Where log lines go: anything with a `write(line)` method. */
export interface LogDestination {
  write(line: string): unknown
}

export interface LoggerOptions {
  /** Overrides SLUICE_LOG_LEVEL; default `info`. */
  level?: string
  /** Human-readable lines; default: whether stdout is a TTY. */
  pretty?: boolean
  /** ANSI colours in pretty mode; default: whether stdout is a TTY. */
  color?: boolean
  /** Defaults to stdout. */
  destination?: LogDestination
  env?: Readonly<Record<string, string | undefined>>
}

export type SluiceLogger = PinoLogger

/** Creates the process logger (assignable to the component `Logger` interface). */
export function createLogger(options: LoggerOptions = {}): SluiceLogger {
  const env = options.env ?? process.env
  const level = (options.level ?? env.SLUICE_LOG_LEVEL ?? 'info').toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new SluiceError('CONFIG_INVALID', `unknown log level "${level}"; use one of ${LOG_LEVELS.join(', ')}`)
  }
  const isTty = Boolean(process.stdout.isTTY)
  const pretty = options.pretty ?? isTty
  const sink: LogDestination = options.destination ?? (pretty ? process.stdout : pino.destination({ dest: 1, sync: true }))
  const destination: LogDestination = pretty ? prettyDestination(sink, options.color ?? (isTty && options.destination === undefined)) : sink
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        log: (obj) => redactSecrets(obj),
        bindings: (bindings) => redactSecrets(bindings),
      },
      hooks: {
        logMethod(args: Parameters<LogFn>, method: LogFn) {
          const clean = args.map((a: unknown) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<LogFn>
          method.apply(this, clean)
        },
        streamWrite: redactText,
      },
    },
    destination,
  )
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' }
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err'])

/** Wraps `out` so each pino JSON line is rewritten as `HH:MM:SS.mmm LEVEL msg key=value ...`. */
export function prettyDestination(out: LogDestination, color = false): LogDestination {
  return {
    write(line: string) {
      out.write(formatPretty(line, color))
    },
  }
}

/** Formats one pino JSON line for humans (falls back to the raw line if it is not JSON). */
export function formatPretty(line: string, color = false): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`
  }
  const paint = (code: string | undefined, text: string): string => (color && code ? `\u001b[${code}m${text}\u001b[0m` : text)
  const levelNum = typeof entry.level === 'number' ? entry.level : 30
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : ''
  const level = paint(LEVEL_COLORS[levelNum], (LEVEL_NAMES[levelNum] ?? String(levelNum)).padEnd(5))
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${paint('90', `${k}=`)}${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
  let text = [time, level, typeof entry.msg === 'string' ? entry.msg : '', ...fields].filter((s) => s !== '').join(' ')
  const err = entry.err as { stack?: unknown; code?: unknown } | undefined
  if (err && typeof err === 'object') {
    if (err.code !== undefined) text += ` ${paint('90', 'code=')}${String(err.code)}`
    if (typeof err.stack === 'string') text += `\n    ${err.stack.split('\n').join('\n    ')}`
  }
  return `${text}\n`
}
