/** Shared pieces of the operations tests: free ports, polling, scraping /metrics, pipeline files. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { kafkaPipeline } from '../e2e/fixtures.ts'
import { writePipeline } from '../helpers/cli.ts'
import type { TestSchema } from '../helpers/pg.ts'

/** True when `promtool` is on PATH (apt package `prometheus`). */
export const hasPromtool = spawnSync('promtool', ['--version']).status === 0

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Polls `predicate` every 200 ms until it holds; throws with `what` (and `context()`, e.g. the process output) after `timeoutMs`. */
export async function until(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 30_000, context?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await predicate()) return
    } catch {
      // not yet (e.g. the endpoint is not listening)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}${context ? `\n${context().slice(-4000)}` : ''}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** GET `url`; status and body text. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  return { status: res.status, body: await res.text() }
}

/** One sample of a scrape. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Parses Prometheus text exposition into samples (enough for our own output: no escapes in label values). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(m, `unparsable metrics line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[l[1] as string] = l[2] as string
    out.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return out
}

/** The value of `name` for `pipeline_id` (and optional further labels), or undefined when absent. */
export function metric(samples: readonly Sample[], name: string, pipelineId: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && s.labels.pipeline_id === pipelineId && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}

/** Scrapes `<base>/metrics`. */
export async function scrape(base: string): Promise<{ text: string; samples: Sample[] }> {
  const r = await get(`${base}/metrics`)
  assert.equal(r.status, 200)
  return { text: r.body, samples: parseMetrics(r.body) }
}

/** Runs `promtool check metrics` on a scrape; null when promtool is absent. */
export function promtoolCheck(text: string): { status: number | null; output: string } | null {
  if (!hasPromtool) return null
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

/** Row count of a table of the test schema. */
export async function count(s: TestSchema, table = 'events'): Promise<number> {
  const { rows } = await s.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)
  return Number(rows[0]?.n)
}

export type PipelineOverrides = Parameters<typeof kafkaPipeline>[3] & {
  /** Connect to PostgreSQL on this port (a proxy) instead of the server's. */
  pgPort?: number
  pipelineId?: string
  monitoring?: Record<string, unknown>
}

/** Writes a Kafka -> PostgreSQL pipeline file (test/e2e/fixtures.ts's) with the operations overrides. */
export async function opsPipeline(s: TestSchema, topic: string, overrides: PipelineOverrides = {}): Promise<{ file: string; dir: string; pipelineId: string }> {
  const pipelineId = overrides.pipelineId ?? `e2e-${s.schema}`
  const written = await writePipeline((dir: string) => {
    const config = kafkaPipeline(s, topic, dir, overrides) as Record<string, unknown> & { load: { connectionParams: Record<string, unknown> } }
    if (overrides.pgPort !== undefined) config.load.connectionParams.port = overrides.pgPort
    return { ...config, pipelineId, ...(overrides.monitoring ? { monitoring: overrides.monitoring } : {}) }
  })
  return { ...written, pipelineId }
}
