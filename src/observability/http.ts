/**
 * The operations endpoint: the status page at /, and /metrics, /health, /ready, /status on plain node:http. Bound to 127.0.0.1
 * unless configured otherwise, because /status shows topic names and errors, and answering only
 * requests whose Host header names this endpoint (host-check.ts), so a DNS-rebinding page cannot
 * read it. Handlers never throw into the server: a failing readiness probe is a 503, not a crashed
 * process.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { toSluiceError } from '../errors.ts'
import { hostAllowed } from './host-check.ts'
import type { QueryStatusBoard } from './status.ts'
import { STATUS_PAGE_HEADERS, renderStatusPage } from './status-page/page.ts'

export interface ReadinessResult {
  ok: boolean
  /** Named checks (`sink`, `source`, `circuit:<pipeline>`...): true, false, or a reason string. */
  checks: Record<string, boolean | string>
}

export interface HttpServerOptions {
  host?: string
  /** 0 picks a free port (tests). */
  port: number
  /** Host header names answered besides the bound address and localhost names; `*` answers any. */
  allowedHosts?: readonly string[]
  registry: Registry
  status: QueryStatusBoard
  ready: () => Promise<ReadinessResult>
  live: () => boolean
  /** Readiness probes slower than this count as failed (default 5000 ms). */
  readyTimeoutMs?: number
}

export interface HttpServer {
  readonly host: string
  readonly port: number
  /** Base URL, e.g. http://127.0.0.1:9464 */
  readonly url: string
  close(): Promise<void>
}

/** Starts the endpoint; resolves once it listens. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const host = options.host ?? '127.0.0.1'
  const allowed = hostAllowed(host, options.allowedHosts)
  const server = createServer((req, res) => {
    if (!allowed(req.headers.host)) {
      // No data, and no echo of the name: 421 says "not this server", as for a misrouted request.
      sendJson(res, 421, { error: 'misdirected request: this Host is not answered here (see monitoring.httpAllowedHosts)' })
      return
    }
    handle(options, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: toSluiceError(err).toJSON() })
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    host,
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function handle(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD')
    sendJson(res, 405, { error: 'method not allowed' })
    return
  }
  switch (path) {
    case '/':
      send(res, 200, 'text/html; charset=utf-8', renderStatusPage(options.status.snapshot()), STATUS_PAGE_HEADERS)
      return
    case '/metrics': {
      const body = await options.registry.metrics()
      send(res, 200, options.registry.contentType, body)
      return
    }
    case '/health': {
      const live = safe(options.live)
      sendJson(res, live ? 200 : 503, { status: live ? 'ok' : 'down' })
      return
    }
    case '/ready': {
      const result = await readiness(options)
      sendJson(res, result.ok ? 200 : 503, { status: result.ok ? 'ready' : 'not ready', checks: result.checks })
      return
    }
    case '/status':
      sendJson(res, 200, options.status.snapshot())
      return
    default:
      sendJson(res, 404, { error: 'not found', endpoints: ['/', '/metrics', '/health', '/ready', '/status'] })
  }
}

/** Runs the readiness probe with a timeout; any failure is a not-ready answer with its error code. */
async function readiness(options: HttpServerOptions): Promise<ReadinessResult> {
  const timeoutMs = options.readyTimeoutMs ?? 5_000
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<ReadinessResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, checks: { probe: `timed out after ${timeoutMs} ms` } }), timeoutMs)
  })
  try {
    return await Promise.race([options.ready(), timeout])
  } catch (err) {
    return { ok: false, checks: { probe: toSluiceError(err).code } }
  } finally {
    clearTimeout(timer)
  }
}

function safe(fn: () => boolean): boolean {
  try {
    return fn()
  } catch {
    return false
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 2)}\n`)
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}
