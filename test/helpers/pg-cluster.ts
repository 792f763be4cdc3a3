/**
 * A throw-away PostgreSQL cluster for tests that need a server configured differently from the
 * machine's (TLS with a private CA, password and certificate authentication). `startPgCluster`
 * runs initdb into a temp folder, writes postgresql.conf / pg_hba.conf, starts it on a free port
 * and creates the test roles; `stop` kills it and removes the folder. Nothing is installed or
 * changed on the machine. As root (initdb refuses to run as root) the server runs as the
 * `postgres` user through runuser; as any other user it runs as that user.
 *
 * With `logical: true` the cluster can feed a logical-replication client such as Debezium's
 * PostgreSQL connector: wal_level=logical, replication slots and WAL senders, and the role
 * `REPLICATION_USER` (LOGIN REPLICATION, password) allowed replication connections in pg_hba.
 *
 * Binaries: PG_BINDIR, else `pg_config --bindir`, else the newest /usr/lib/postgresql/<n>/bin.
 * Certificates: scripts/test-pki.sh (cached in .cache/pki).
 */
import { execFile } from 'node:child_process'
import { chmod, chown, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

/** Password of the password-authenticated test role (only ever on these throw-away clusters). */
export const CLUSTER_PASSWORD = 'pgsec-test-pw'
/** The password role; `CLIENT_CERT_USER` is the role of the client certificate (CN=sluice-client). */
export const CLUSTER_USER = 'sluice_tls'
export const CLIENT_CERT_USER = 'sluice-client'
/** The replication role of a `logical` cluster (password CLUSTER_PASSWORD); it may create tables and publications. */
export const REPLICATION_USER = 'sluice_repl'

export interface PgClusterOptions {
  /** ssl=on with the private CA's server certificate; plain TCP is then refused (hostssl only). */
  readonly tls: boolean
  /** First port to try (the next free one is taken); default SLUICE_TEST_PG_CLUSTER_PORT or 55432. */
  readonly port?: number
  /** wal_level=logical with slots and WAL senders, and the REPLICATION_USER role (for Debezium). */
  readonly logical?: boolean
}

export interface PgCluster {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly database: 'postgres'
  /** The folder of the private CA's files (ca.crt, client.crt, other-ca.crt, ...). */
  readonly pki: string
  stop(): Promise<void>
}

async function binDir(): Promise<string> {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR
  try {
    const { stdout } = await run('pg_config', ['--bindir'])
    const dir = stdout.trim()
    if (existsSync(join(dir, 'initdb'))) return dir
  } catch {
    // no pg_config on PATH: look for the Debian/Ubuntu layout
  }
  const base = '/usr/lib/postgresql'
  const versions = existsSync(base) ? (await readdir(base)).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (newest === undefined) throw new Error('pg-cluster: no PostgreSQL server binaries (set PG_BINDIR, or install postgresql)')
  return join(base, newest, 'bin')
}

/** Creates the private CA's files (idempotent) and returns their folder. */
export async function testPki(): Promise<string> {
  const dir = join(root, '.cache', 'pki')
  await run(join(root, 'scripts', 'test-pki.sh'), [dir])
  return dir
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

async function freePort(first: number): Promise<number> {
  for (let p = first; p < first + 200; p++) if (await portFree(p)) return p
  throw new Error(`pg-cluster: no free port from ${first}`)
}

/** Starts a cluster; call `stop()` in `after`. */
export async function startPgCluster(options: PgClusterOptions): Promise<PgCluster> {
  const bin = await binDir()
  const pki = await testPki()
  const asRoot = process.getuid?.() === 0
  // As root, everything the server touches must belong to the postgres user.
  const owner = asRoot ? await (async () => {
    const { stdout: uid } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    return { uid: Number(uid), gid: Number(gid) }
  })() : undefined
  const as = (cmd: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args))

  const base = await mkdtemp(join(tmpdir(), 'sluice-pgcluster-'))
  const data = join(base, 'data')
  await chmod(base, 0o755)
  if (owner) await chown(base, owner.uid, owner.gid)
  const port = await freePort(options.port ?? Number(process.env.SLUICE_TEST_PG_CLUSTER_PORT ?? 55432))

  let started = false
  const stop = async (): Promise<void> => {
    if (started) await as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
    started = false
    await rm(base, { recursive: true, force: true })
  }
  try {
    await as(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=reject', '-N', '-E', 'UTF8', '--locale=C'])
    const conf = [
      `port = ${port}`,
      // 127.0.0.2 too: the same server under an address its certificate does not name (host-name mismatch).
      `listen_addresses = '127.0.0.1,127.0.0.2'`,
      `unix_socket_directories = '${base}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 40',
      "password_encryption = 'scram-sha-256'",
    ]
    if (options.logical) conf.push('wal_level = logical', 'max_replication_slots = 10', 'max_wal_senders = 10')
    const hba = ['local all all trust']
    // Replication connections match only a `replication` line; Debezium's stream uses one, its queries a plain one.
    if (options.logical) hba.push(`host replication ${REPLICATION_USER} 127.0.0.0/8 scram-sha-256`)
    if (options.tls) {
      // The server presents its certificate with the CA (a chain, as in production); key 0600, owned by the server user.
      await writeFile(join(data, 'server.crt'), Buffer.concat([await readFile(join(pki, 'server.crt')), await readFile(join(pki, 'ca.crt'))]))
      await copyFile(join(pki, 'server.key'), join(data, 'server.key'))
      await copyFile(join(pki, 'ca.crt'), join(data, 'ca.crt'))
      for (const f of ['server.crt', 'server.key', 'ca.crt']) {
        await chmod(join(data, f), 0o600)
        if (owner) await chown(join(data, f), owner.uid, owner.gid)
      }
      conf.push('ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'", "ssl_ca_file = 'ca.crt'")
      hba.push(`hostssl all "${CLIENT_CERT_USER}" 127.0.0.0/8 cert`, 'hostssl all all 127.0.0.0/8 scram-sha-256')
    } else {
      hba.push('host all all 127.0.0.0/8 scram-sha-256')
    }
    await writeFile(join(data, 'postgresql.auto.conf'), `${conf.join('\n')}\n`)
    await writeFile(join(data, 'pg_hba.conf'), `${hba.join('\n')}\n`)
    if (owner) for (const f of ['postgresql.auto.conf', 'pg_hba.conf']) await chown(join(data, f), owner.uid, owner.gid)
    await as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(base, 'server.log'), '-w', '-t', '30', 'start'])
    started = true
    const admin = new pg.Client({ host: base, port, user: 'postgres', database: 'postgres' })
    await admin.connect()
    try {
      await admin.query(`CREATE ROLE ${CLUSTER_USER} LOGIN PASSWORD '${CLUSTER_PASSWORD}'`)
      await admin.query(`CREATE ROLE "${CLIENT_CERT_USER}" LOGIN`)
      await admin.query(`GRANT ALL ON SCHEMA public TO ${CLUSTER_USER}, "${CLIENT_CERT_USER}"`)
      if (options.logical) {
        // Owner of the tables it captures, so that Debezium may create their publication itself.
        await admin.query(`CREATE ROLE ${REPLICATION_USER} LOGIN REPLICATION PASSWORD '${CLUSTER_PASSWORD}'`)
        await admin.query(`GRANT ALL ON SCHEMA public TO ${REPLICATION_USER}`)
        await admin.query(`GRANT CREATE ON DATABASE postgres TO ${REPLICATION_USER}`)
      }
    } finally {
      await admin.end()
    }
  } catch (err) {
    const log = await readText(join(base, 'server.log'))
    await stop()
    throw new Error(`pg-cluster: could not start (${err instanceof Error ? err.message : String(err)})${log ? `\n${log}` : ''}`)
  }
  return { host: '127.0.0.1', port, database: 'postgres', pki, stop }
}

async function readText(file: string): Promise<string> {
  try {
    return (await readFile(file)).toString('utf8').slice(-3000)
  } catch {
    return ''
  }
}
