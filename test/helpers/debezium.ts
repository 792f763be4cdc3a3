/**
 * A real Debezium PostgreSQL connector for tests: Kafka Connect standalone (`connect-runtime`) with
 * `debezium-connector-postgres` on one classpath, both from Maven Central, writing into the test
 * broker. No Java code of ours: the worker and the connector are configured by properties files in
 * a temp folder (the offsets file too), and the worker's REST API tells when the connector runs.
 *
 * Jars: resolved once by `mvn copy-dependencies` from scripts/debezium/pom.xml (with
 * scripts/debezium/settings.xml, which sends every repository a dependency POM names to Maven
 * Central) into .cache/debezium/lib, and reused while the pom is unchanged, as scripts/kafka.sh does
 * for the broker. Needs `java` (17+) and `mvn` on PATH; DEBEZIUM_CACHE moves the cache.
 *
 * Converters: JsonConverter with schemas.enable=true for key and value. With the schema beside
 * each payload Sluice can turn Connect's and Debezium's logical types (Decimal bytes, Date days,
 * MicroTimestamp microseconds) into PostgreSQL values (engine/connect-logical.ts); without it a
 * Decimal is only base64 text and a date only a number.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const conf = join(root, 'scripts', 'debezium')

export interface ConnectWorker {
  /** The REST API's base URL (http://127.0.0.1:<port>). */
  readonly url: string
  /** The worker's log so far (for a failing test's message). */
  log(): Promise<string>
  stop(): Promise<void>
}

/** The lib folder with the worker's and connector's jars, resolved on first use. */
export async function debeziumJars(): Promise<string> {
  const cache = process.env.DEBEZIUM_CACHE ?? join(root, '.cache', 'debezium')
  const lib = join(cache, 'lib')
  const stamp = createHash('sha256').update(await readFile(join(conf, 'pom.xml'))).digest('hex')
  if (existsSync(join(lib, '.stamp')) && (await readFile(join(lib, '.stamp'), 'utf8')).trim() === stamp) return lib
  await rm(lib, { recursive: true, force: true })
  await mkdir(cache, { recursive: true })
  try {
    await run('mvn', ['-B', '-q', '-Dstyle.color=never', '-s', join(conf, 'settings.xml'), '-f', join(conf, 'pom.xml'),
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${lib}`], { maxBuffer: 16 << 20 })
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(`debezium: resolving the Connect and Debezium jars failed (mvn on PATH? Maven Central reachable?): ${e.message}\n${(e.stdout ?? '').slice(-3000)}${(e.stderr ?? '').slice(-2000)}`)
  }
  await writeFile(join(lib, '.stamp'), `${stamp}\n`)
  return lib
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function properties(p: Readonly<Record<string, string | number | boolean>>): string {
  return `${Object.entries(p).map(([k, v]) => `${k}=${String(v)}`).join('\n')}\n`
}

/**
 * Starts a Connect standalone worker on `bootstrap` running one connector (`connector`: its
 * properties, `name` and `connector.class` included) and waits until the connector and its task
 * are RUNNING.
 */
export async function startConnect(bootstrap: string, connector: Readonly<Record<string, string | number | boolean>>, timeoutMs = 120_000): Promise<ConnectWorker> {
  const lib = await debeziumJars()
  const dir = await mkdtemp(join(tmpdir(), 'sluice-connect-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const logFile = join(dir, 'connect.log')
  await writeFile(join(dir, 'worker.properties'), properties({
    'bootstrap.servers': bootstrap,
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': true,
    'value.converter.schemas.enable': true,
    'offset.storage.file.filename': join(dir, 'connect.offsets'),
    'offset.flush.interval.ms': 1000,
    listeners: url,
    // The connector is on the worker's classpath: no plugin folder to scan.
    'plugin.discovery': 'only_scan',
    // Small batches sent at once: the test waits on every change.
    'producer.linger.ms': 5,
  }))
  await writeFile(join(dir, 'connector.properties'), properties(connector))
  await writeFile(join(dir, 'log4j2.properties'), [
    'appender.file.type=File', 'appender.file.name=file', `appender.file.fileName=${logFile}`,
    'appender.file.layout.type=PatternLayout', 'appender.file.layout.pattern=%d{HH:mm:ss.SSS} %-5p [%t] %c{1}: %m%n',
    'rootLogger.level=INFO', 'rootLogger.appenderRef.file.ref=file',
    // Jetty, Jersey and the clients' config dumps say nothing the test needs.
    'logger.jetty.name=org.eclipse.jetty', 'logger.jetty.level=WARN',
    'logger.clients.name=org.apache.kafka.clients', 'logger.clients.level=WARN',
    'logger.reflections.name=org.reflections', 'logger.reflections.level=ERROR',
  ].join('\n'))
  const child = spawn('java', ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, '-cp', `${lib}/*`,
    'org.apache.kafka.connect.cli.ConnectStandalone', join(dir, 'worker.properties'), join(dir, 'connector.properties')], { stdio: ['ignore', 'pipe', 'pipe'] })
  // A test process that dies without its after hook must not leave a JVM behind.
  const orphanGuard = (): void => void child.kill('SIGKILL')
  process.once('exit', orphanGuard)
  child.once('exit', () => process.removeListener('exit', orphanGuard))
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)))
  child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)))
  const log = async (): Promise<string> => `${out}\n${(await readFile(logFile, 'utf8').catch(() => '')).slice(-8000)}`
  const stop = async (): Promise<void> => {
    await kill(child)
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitRunning(url, String(connector['name']), child, timeoutMs)
  } catch (err) {
    const text = await log()
    await stop()
    throw new Error(`debezium: Connect did not run the connector: ${(err as Error).message}\n${text}`)
  }
  return { url, log, stop }
}

async function waitRunning(url: string, name: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the worker exited (${child.exitCode ?? child.signalCode})`)
    try {
      const res = await fetch(`${url}/connectors/${encodeURIComponent(name)}/status`)
      last = await res.text()
      if (res.ok) {
        const s = JSON.parse(last) as { connector?: { state?: string }; tasks?: { state?: string; trace?: string }[] }
        const failed = s.tasks?.find((t) => t.state === 'FAILED')
        if (failed || s.connector?.state === 'FAILED') throw new Error(`connector failed: ${failed?.trace?.slice(0, 3000) ?? last}`)
        if (s.connector?.state === 'RUNNING' && (s.tasks?.length ?? 0) > 0 && s.tasks?.every((t) => t.state === 'RUNNING')) return
      }
    } catch (err) {
      if ((err as Error).message.startsWith('connector failed')) throw err
      // REST server not up yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`not RUNNING after ${timeoutMs} ms (last status: ${last.slice(0, 500)})`)
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}
