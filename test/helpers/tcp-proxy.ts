/**
 * A TCP proxy in front of a real server (PostgreSQL by default), so that one test can make the
 * database unavailable to the process under test without stopping the server every other test
 * shares. `cut()` destroys every proxied connection and refuses new ones (ECONNREFUSED, as a
 * stopped server would); `restore()` accepts connections again on the same port.
 * `loseNextCommitReply()` lets the next COMMIT reach the server but drops the connection before
 * its reply arrives: the client cannot tell whether the batch committed (the lost-ack case).
 */
import { type Server, type Socket, connect, createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

/** A running proxy. */
export interface TcpProxy {
  readonly host: string
  readonly port: number
  /** Connections accepted so far (to check that the process under test really uses the proxy). */
  readonly accepted: number
  /** Destroys every connection and stops listening, so new connections are refused. */
  cut(): Promise<void>
  /** Listens again on the same port. */
  restore(): Promise<void>
  /**
   * Arms a trap: the next simple-query COMMIT is forwarded to the server, then the client's
   * connection is cut before the reply. Resolves when the trap has sprung.
   */
  loseNextCommitReply(): Promise<void>
  close(): Promise<void>
}

/** The PostgreSQL frontend message of `client.query('COMMIT')`: 'Q', int32 length, "COMMIT\0". */
const COMMIT_MESSAGE = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 11]), Buffer.from('COMMIT\0')])

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number } = { host: '127.0.0.1', port: 5432 }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  let accepted = 0
  let commitTrap: (() => void) | null = null
  let port = 0

  const onConnection = (client: Socket): void => {
    accepted++
    const upstream = connect(target.port, target.host)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const drop = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', drop)
    upstream.on('close', drop)
    upstream.pipe(client)
    client.on('data', (chunk: Buffer) => {
      if (commitTrap !== null && chunk.includes(COMMIT_MESSAGE)) {
        const sprung = commitTrap
        commitTrap = null
        pairs.delete(pair)
        upstream.unpipe(client)
        // The server receives COMMIT (end() flushes it, then FIN) and commits; the client never hears.
        // The client's close must not destroy the upstream socket before the COMMIT is flushed.
        client.removeAllListeners('close')
        client.removeAllListeners('error')
        client.on('error', () => {})
        client.destroy()
        upstream.end(chunk)
        sprung()
        return
      }
      upstream.write(chunk)
    })
  }

  const listen = (server: Server, at: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(at, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })

  let server: Server | null = createServer(onConnection)
  await listen(server, 0)
  port = (server.address() as AddressInfo).port

  const stopListening = async (): Promise<void> => {
    const s = server
    server = null
    for (const [a, b] of pairs) {
      a.destroy()
      b.destroy()
    }
    pairs.clear()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  return {
    host: '127.0.0.1',
    get port() {
      return port
    },
    get accepted() {
      return accepted
    },
    cut: stopListening,
    async restore() {
      if (server) return
      const s = createServer(onConnection)
      await listen(s, port)
      server = s
    },
    loseNextCommitReply() {
      return new Promise<void>((resolve) => {
        commitTrap = resolve
      })
    },
    close: stopListening,
  }
}
