/**
 * Runs a command with a real Kafka broker available:
 *
 *   node scripts/with-kafka.ts <command> [args...]
 *
 * When a broker already answers on 127.0.0.1:$KAFKA_PORT (default 9092) it is reused and left
 * running. Otherwise scripts/kafka.sh starts one, and stops it after the command, however the
 * command ends. The command's exit code (or 128 + signal number) is propagated. The command sees
 * KAFKA_BOOTSTRAP and KAFKA_PORT in its environment.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Admin } from '@platformatic/kafka'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const kafkaSh = join(root, 'scripts', 'kafka.sh')
const port = process.env.KAFKA_PORT ?? '9092'
const bootstrap = `127.0.0.1:${port}`

/** True when a Kafka broker answers a metadata request on the port (a bare TCP connect is not enough). */
async function brokerAnswers(): Promise<boolean> {
  const admin = new Admin({
    clientId: 'sluice-with-kafka-probe',
    bootstrapBrokers: [bootstrap],
    retries: 0,
    connectTimeout: 2000,
    requestTimeout: 3000,
  })
  try {
    await admin.metadata({ topics: [] })
    return true
  } catch {
    return false
  } finally {
    await admin.close().catch(() => {})
  }
}

/** Runs `scripts/kafka.sh <cmd>` and resolves with its exit code. */
function kafka(cmd: 'start' | 'stop'): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('bash', [kafkaSh, cmd], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env })
    child.on('error', () => resolve(1))
    child.on('exit', (code) => resolve(code ?? 1))
  })
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2)
  const command = argv[0]
  if (command === undefined) {
    process.stderr.write('usage: node scripts/with-kafka.ts <command> [args...]\n')
    return 2
  }
  // From here on a signal never kills this process outright: the broker must be stopped first.
  let child: ChildProcess | null = null
  let signalled: NodeJS.Signals | null = null
  const onSignal = (sig: NodeJS.Signals): void => {
    signalled ??= sig
    child?.kill(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  const reuse = await brokerAnswers()
  if (reuse) {
    process.stderr.write(`with-kafka: reusing the broker already running on ${bootstrap}\n`)
  } else if ((await kafka('start')) !== 0) {
    process.stderr.write('with-kafka: the broker did not start\n')
    return 1
  }
  try {
    if (signalled) return 128 + (constants.signals[signalled] ?? 0)
    return await new Promise<number>((resolve) => {
      child = spawn(command, argv.slice(1), {
        stdio: 'inherit',
        env: { ...process.env, KAFKA_BOOTSTRAP: process.env.KAFKA_BOOTSTRAP ?? bootstrap, KAFKA_PORT: port },
      })
      child.on('error', (err) => {
        process.stderr.write(`with-kafka: cannot run ${command}: ${err.message}\n`)
        resolve(127)
      })
      child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)))
    })
  } finally {
    if (!reuse) await kafka('stop')
  }
}

process.exitCode = await main()
