/**
 * Runs a command with a real Kafka broker available:
 *
 *   node scripts/with-kafka.ts <command> [args...]
 *
 * When a broker already answers on 127.0.0.1:$KAFKA_PORT (default 9092) it is reused and left
 * running. Otherwise scripts/kafka.sh starts one, and stops it after the command, however the
 * command ends. The command's exit code (or 128 + signal number) is propagated. The command sees
 * KAFKA_BOOTSTRAP and KAFKA_PORT in its environment, and for the secured listeners (scripts/kafka.sh)
 * KAFKA_SASL_SSL_BOOTSTRAP, KAFKA_SSL_BOOTSTRAP, KAFKA_WRONGHOST_BOOTSTRAP, SLUICE_TEST_PKI (the
 * test CA's folder) and the test users of scripts/kafka/test-users.env (KAFKA_TEST_SCRAM_USER ...).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Admin } from '@platformatic/kafka'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const kafkaSh = join(root, 'scripts', 'kafka.sh')
const port = process.env.KAFKA_PORT ?? '9092'
const bootstrap = `127.0.0.1:${port}`

/** What the secured listeners need from a test: addresses, the CA folder, the users (kafka.sh's defaults). */
function securedEnv(): Record<string, string> {
  const p = Number(port)
  const env: Record<string, string> = {
    KAFKA_SASL_SSL_BOOTSTRAP: `127.0.0.1:${process.env.KAFKA_SASL_SSL_PORT ?? p + 2}`,
    KAFKA_SSL_BOOTSTRAP: `127.0.0.1:${process.env.KAFKA_SSL_PORT ?? p + 3}`,
    KAFKA_WRONGHOST_BOOTSTRAP: `127.0.0.1:${process.env.KAFKA_WRONGHOST_PORT ?? p + 4}`,
    SLUICE_TEST_PKI: process.env.SLUICE_TEST_PKI ?? join(root, '.cache', 'pki'),
  }
  for (const line of readFileSync(join(root, 'scripts', 'kafka', 'test-users.env'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
    if (m?.[1] !== undefined && m[2] !== undefined) env[m[1]] = m[2]
  }
  // Variables already set win (a caller pointing the tests at another broker).
  for (const k of Object.keys(env)) if (process.env[k] !== undefined) env[k] = process.env[k] as string
  return env
}

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
        env: { ...process.env, ...securedEnv(), KAFKA_BOOTSTRAP: process.env.KAFKA_BOOTSTRAP ?? bootstrap, KAFKA_PORT: port },
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
