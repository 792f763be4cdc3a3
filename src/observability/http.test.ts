import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { Registry } from 'prom-client'
import { EngineEvents } from '../engine/events.ts'
import { SluiceError } from '../errors.ts'
import { startHttpServer, type ReadinessResult } from './http.ts'
import { attachMetrics, createMetrics } from './metrics.ts'
import { QueryStatusBoard } from './status.ts'

async function withServer(
  fn: (url: string, state: { live: boolean; ready: () => Promise<ReadinessResult> }, events: EngineEvents) => Promise<void>,
): Promise<void> {
  const events = new EngineEvents()
  const registry = new Registry()
  attachMetrics(events, createMetrics(registry))
  const status = new QueryStatusBoard(events)
  const state = { live: true, ready: async (): Promise<ReadinessResult> => ({ ok: true, checks: { sink: true } }) }
  const server = await startHttpServer({ port: 0, registry, status, ready: () => state.ready(), live: () => state.live, readyTimeoutMs: 200 })
  try {
    assert.equal(server.host, '127.0.0.1')
    assert.ok(server.port > 0)
    await fn(server.url, state, events)
  } finally {
    await server.close()
  }
}

test('/metrics serves Prometheus text', async () => {
  await withServer(async (url, _state, events) => {
    events.emit('batch.duplicate', { pipelineId: 'p1', batchId: 1 })
    const res = await fetch(`${url}/metrics`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const text = await res.text()
    assert.match(text, /^etl_batch_duplicates_total\{pipeline_id="p1"\} 1$/m)
    assert.match(text, /^# HELP process_cpu_seconds_total /m)
  })
})

test('/health follows live()', async () => {
  await withServer(async (url, state) => {
    let res = await fetch(`${url}/health`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { status: 'ok' })
    state.live = false
    res = await fetch(`${url}/health`)
    assert.equal(res.status, 503)
    await res.body?.cancel()
  })
})

test('/ready is 200 or 503 with the checks; failures and timeouts are 503', async () => {
  await withServer(async (url, state) => {
    let res = await fetch(`${url}/ready`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { status: 'ready', checks: { sink: true } })

    state.ready = async () => ({ ok: false, checks: { sink: 'SINK_UNAVAILABLE', 'circuit:p1': 'open' } })
    res = await fetch(`${url}/ready`)
    assert.equal(res.status, 503)
    assert.deepEqual(await res.json(), { status: 'not ready', checks: { sink: 'SINK_UNAVAILABLE', 'circuit:p1': 'open' } })

    state.ready = async () => {
      throw new SluiceError('SOURCE_UNAVAILABLE', 'broker down')
    }
    res = await fetch(`${url}/ready`)
    assert.equal(res.status, 503)
    assert.deepEqual(await res.json(), { status: 'not ready', checks: { probe: 'SOURCE_UNAVAILABLE' } })

    state.ready = () => new Promise(() => {})
    res = await fetch(`${url}/ready`)
    assert.equal(res.status, 503)
    assert.match(JSON.stringify(await res.json()), /timed out/)
  })
})

test('/status serves the board snapshot; unknown paths 404, other methods 405', async () => {
  await withServer(async (url, _state, events) => {
    events.emit('query.state', { pipelineId: 'p1', state: 'running' })
    let res = await fetch(`${url}/status?pretty=1`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const body = (await res.json()) as { queries: Array<{ id: string; state: string }> }
    assert.equal(body.queries[0]?.id, 'p1')
    assert.equal(body.queries[0]?.state, 'running')

    res = await fetch(`${url}/nope`)
    assert.equal(res.status, 404)
    await res.body?.cancel()
    res = await fetch(`${url}/metrics`, { method: 'POST' })
    assert.equal(res.status, 405)
    await res.body?.cancel()
    res = await fetch(`${url}/health`, { method: 'HEAD' })
    assert.equal(res.status, 200)
  })
})

test('close() stops listening, even with keep-alive connections open', async () => {
  const server = await startHttpServer({
    port: 0,
    registry: new Registry(),
    status: new QueryStatusBoard(),
    ready: async () => ({ ok: true, checks: {} }),
    live: () => true,
  })
  const res = await fetch(`${server.url}/health`)
  await res.text()
  await server.close()
  await assert.rejects(fetch(`${server.url}/health`))
})

test('/ serves the status page: HTML with the board painted in, a strict CSP whose hashes match its inline blocks, no outside asset', async () => {
  await withServer(async (url, _state, events) => {
    events.emit('query.state', { pipelineId: 'p<1>', state: 'running' })
    for (const path of ['/', '/?refresh=1']) {
      const res = await fetch(`${url}${path}`)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(res.headers.get('x-frame-options'), 'DENY')
      const csp = res.headers.get('content-security-policy') ?? ''
      const html = await res.text()
      assert.match(html, /^<!doctype html>/)
      assert.match(html, /data-pipeline="p&lt;1&gt;"/, 'the board is painted in, escaped')
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, 'inline blocks are allowed by hash only')
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /connect-src 'self'/)
      for (const [tag, directive] of [
        ['script', 'script-src'],
        ['style', 'style-src'],
      ] as const) {
        const blocks = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] as string)
        assert.equal(blocks.length, 1, `one inline ${tag}`)
        const digest = createHash('sha256').update(blocks[0] as string, 'utf8').digest('base64')
        assert.ok(csp.includes(`${directive} 'sha256-${digest}'`), `${directive} allows the page's ${tag} by its hash`)
      }
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no outside asset or link')
      assert.doesNotMatch(html, /<(img|iframe|object)\b|<script src|<link(?! rel="icon" href="data:,">)/, 'no external resource tags (the icon is empty, so the browser asks for no favicon)')
    }
    const head = await fetch(`${url}/`, { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
  })
})
