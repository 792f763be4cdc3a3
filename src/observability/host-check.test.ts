/** The endpoint answers only its own Host names, so a DNS-rebinding page cannot read /status. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { Registry } from 'prom-client'
import { EngineEvents } from '../engine/events.ts'
import { hostOf } from './host-check.ts'
import { startHttpServer } from './http.ts'
import { QueryStatusBoard } from './status.ts'

/** A real GET with the Host header we choose (fetch does not let a caller forge it). */
function get(port: number, path: string, host: string | undefined, address = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, method: 'GET', setHost: host === undefined ? false : undefined, headers: host === undefined ? {} : { Host: host } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function serve(host: string, allowedHosts?: string[]) {
  const events = new EngineEvents()
  const status = new QueryStatusBoard(events)
  status.register('secret-pipeline-name', 'q')
  return startHttpServer({ host, port: 0, ...(allowedHosts ? { allowedHosts } : {}), registry: new Registry(), status, ready: async () => ({ ok: true, checks: {} }), live: () => true })
}

test('forged Host headers get 421 without data; the bound address and localhost names are answered', async () => {
  const server = await serve('127.0.0.1')
  try {
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, 'localhost', 'LOCALHOST.', `[::1]:${server.port}`, 'app.localhost']) {
      for (const path of ['/status', '/']) {
        const r = await get(server.port, path, host)
        assert.equal(r.status, 200, `${host} ${path}`)
        assert.match(r.body, /secret-pipeline-name/)
      }
    }
    for (const host of [`evil.example:${server.port}`, 'evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', `10.1.2.3:${server.port}`, 'a:b:c', '[::1', 'localhost:x']) {
      for (const path of ['/', '/status', '/metrics', '/ready', '/health', '/nope']) {
        const r = await get(server.port, path, host)
        assert.equal(r.status, 421, `${host} ${path}`)
        assert.doesNotMatch(r.body, /secret-pipeline-name|pipeline|evil/, 'no data and no echo')
      }
    }
  } finally {
    await server.close()
  }
})

test('configured names are answered (an option, documented); * answers any', async () => {
  const server = await serve('127.0.0.1', ['metrics.internal.example'])
  try {
    assert.equal((await get(server.port, '/status', `metrics.internal.example:${server.port}`)).status, 200)
    assert.equal((await get(server.port, '/status', 'other.internal.example')).status, 421)
  } finally {
    await server.close()
  }
  const open = await serve('127.0.0.1', ['*'])
  try {
    assert.equal((await get(open.port, '/status', 'anything.example')).status, 200)
  } finally {
    await open.close()
  }
})

test('bound to all addresses: the machine\'s own addresses are answered, other names are not', async () => {
  const server = await serve('0.0.0.0')
  try {
    assert.equal((await get(server.port, '/health', `127.0.0.1:${server.port}`)).status, 200)
    assert.equal((await get(server.port, '/health', 'rebind.attacker.example')).status, 421)
  } finally {
    await server.close()
  }
})

test('hostOf parses Host headers', () => {
  assert.equal(hostOf('Example.COM:9464'), 'example.com')
  assert.equal(hostOf('[::1]:80'), '::1')
  assert.equal(hostOf('host.'), 'host')
  for (const bad of ['', ':80', 'a:b:c', '[::1', '[::1]x', 'h:port']) assert.equal(hostOf(bad), null, bad)
})
