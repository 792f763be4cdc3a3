/**
 * The status page in a real headless Chromium (Debian's `chromium`, driven by playwright-core with
 * executablePath: nothing is downloaded). A real `sluice run` with the generator source, a continuous
 * trigger and the HTTP port loads into PostgreSQL; the page must show its state and numbers, update
 * them by itself, and stay within its CSP (no violation, no request off its origin). A second test
 * feeds markup through error messages and pipeline names and checks that none of it runs.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { accessSync, constants } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { type Browser, type Page, chromium } from 'playwright-core'
import { Registry } from 'prom-client'
import { startSluice, writePipeline } from '../../../test/helpers/cli.ts'
import { pgSettings } from '../../../test/helpers/pg.ts'
import { freePort, until } from '../../../test/ops/support.ts'
import { EngineEvents } from '../../engine/events.ts'
import { startHttpServer } from '../http.ts'
import { QueryStatusBoard, type StatusSnapshot } from '../status.ts'
import { REFRESH_MS } from './page.ts'

/** Debian's chromium on PATH (`which chromium`); a missing browser fails the test, saying how to install it. */
function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue
    const candidate = join(dir, 'chromium')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this folder
    }
  }
  throw new Error(
    'Chromium is not installed, and the status page test needs a real browser: install Debian\'s package with ' +
      '`apt-get update && apt-get install -y chromium` (.ci/run does this on CI machines); the test downloads nothing.',
  )
}

/** Watches a page: CSP violations and console errors, and every URL it requests. */
function watch(page: Page): { problems: string[]; requests: string[] } {
  const problems: string[] = []
  const requests: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  page.on('request', (r) => requests.push(r.url()))
  return { problems, requests }
}

/**
 * The page's globals, typed for callbacks that run in the browser (the project's types have no DOM).
 * Function callbacks, not strings: Playwright evaluates strings with eval, which the page's CSP forbids.
 */
interface PageGlobals {
  document: { querySelector(selector: string): { textContent: string | null } | null }
}
const text = async (page: Page, key: string): Promise<string> => ((await page.textContent(`[data-k="${key}"]`)) ?? '').trim()
const count = (shown: string): number => Number(shown.replace(/,/g, ''))

describe('the status page in Chromium', { timeout: 180_000 }, () => {
  let browser: Browser
  const admin = new pg.Client(pgSettings())
  const schema = `statuspage_${Date.now().toString(36)}`

  let connected = false

  before(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      // As root (CI containers) Chromium refuses to start inside its own sandbox.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    })
    await admin.connect()
    connected = true
    await admin.query(`CREATE SCHEMA "${schema}"`)
    // Every tenth id breaks the CHECK: the sink rejects it, so dead letters show on the page by code.
    await admin.query(`CREATE TABLE "${schema}".gen (id bigint CHECK (id % 10 <> 3), v text)`)
  })
  after(async () => {
    await browser?.close()
    // A client that never connected would queue the query forever.
    if (!connected) return
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await admin.end()
  })

  test('a running pipeline: state, records, rates and dead letters show, and update without a reload', async (t) => {
    const port = await freePort()
    const pgs = pgSettings()
    const pipelineId = `statuspage-${schema}`
    const { file } = await writePipeline((dir: string) => ({
      pipelineId,
      mode: 'streaming',
      extract: { sourceType: 'generator', rowsPerSecond: 200, partitions: 2, fields: { id: { type: 'sequence' }, v: { type: 'string' } } },
      load: { sinkType: 'postgresql', table: 'gen', connectionParams: { host: pgs.host, port: pgs.port, database: pgs.database, user: pgs.user, currentSchema: schema } },
      streamingConfigJson: { checkpointLocation: join(dir, 'checkpoint'), queryName: 'statuspage', triggerMode: 'continuous' },
    }))
    const running = startSluice(['run', file, '--http-port', String(port)])
    t.after(() => running.child.kill('SIGKILL'))
    const base = `http://127.0.0.1:${port}`
    await until(
      'a first batch committed',
      async () => ((await (await fetch(`${base}/status`)).json()) as StatusSnapshot).queries[0]?.batchesCommitted !== 0,
      60_000,
      running.output,
    )

    const page = await browser.newPage()
    const seen = watch(page)
    const openedAt = Date.now()
    await page.goto(`${base}/`)
    assert.equal(await page.title(), 'Sluice status')
    assert.equal(await page.textContent(`[data-pipeline="${pipelineId}"] .name`), 'statuspage', 'the query name')
    assert.match(await text(page, 'state'), /^(running|idle)$/)
    assert.equal(await text(page, 'circuit'), 'circuit closed')
    const first = count(await text(page, 'records'))
    assert.ok(first > 0, `records shown: ${first}`)
    assert.match(await text(page, 'processed-rate'), /^[\d,.]+\/s$/)
    assert.match(await text(page, 'duration'), /^[\d,]+ ms$/)
    assert.equal(await page.locator('.chart polyline').count(), 1, 'the records/s chart is drawn')

    // A marker on the window survives only if the page updates itself instead of reloading.
    await page.evaluate('window.statusPageMarker = 1')
    await page.waitForFunction((before: number) => Number((globalThis as unknown as PageGlobals).document.querySelector('[data-k="records"]')?.textContent?.replace(/,/g, '')) > before, first, { timeout: 20_000 })
    assert.ok(Date.now() - openedAt >= REFRESH_MS, 'the server painted the first numbers; the page repainted them after its refresh interval')
    assert.equal(await page.evaluate('window.statusPageMarker'), 1, 'no reload')
    const later = count(await text(page, 'records'))
    assert.ok(later > first, `records went from ${first} to ${later}`)
    const fromJson = ((await (await fetch(`${base}/status`)).json()) as StatusSnapshot).queries[0]?.totals.records ?? 0
    assert.ok(later <= fromJson, `the page (${later}) shows no more than /status has since (${fromJson})`)

    // The CHECK violations are dead letters with RECORD_COLUMN, counted by code.
    await page.locator('.codes tr', { hasText: 'RECORD_COLUMN' }).waitFor({ timeout: 20_000 })
    assert.ok(count((await page.locator('.codes tr', { hasText: 'RECORD_COLUMN' }).locator('td.n').textContent()) ?? '') > 0)
    assert.ok(seen.requests.some((u) => u === `${base}/status`), 'the page fetched /status')
    assert.deepEqual(seen.requests.filter((u) => !u.startsWith(`${base}/`)), [], 'no request leaves the origin')
    assert.deepEqual(seen.problems, [], 'no CSP violation or script error')
    await page.close()
  })

  test('markup in pipeline names and error messages is shown as text, never run', async () => {
    const events = new EngineEvents()
    const board = new QueryStatusBoard(events)
    const evil = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`
    board.register('evil', `name ${evil}`)
    events.emit('query.state', { pipelineId: 'evil', state: 'backoff', error: { code: 'SINK_UNAVAILABLE', message: `first ${evil}` } })
    const server = await startHttpServer({ port: 0, registry: new Registry(), status: board, ready: async () => ({ ok: true, checks: {} }), live: () => true })
    try {
      const page = await browser.newPage()
      const seen = watch(page)
      await page.goto(`${server.url}/`)
      assert.equal(await page.textContent('[data-pipeline="evil"] .name'), `name ${evil}`)
      // The next refresh paints a new message through the browser's copy of the renderer.
      events.emit('batch.failed', { pipelineId: 'evil', batchId: 1, attempt: 2, code: 'SINK_TIMEOUT', retryable: true, message: `second ${evil}` })
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelector('[data-k="last-error"]')?.textContent?.includes('second') === true, undefined, { timeout: 10_000 })
      assert.equal(await page.textContent('[data-k="last-error"] code'), 'SINK_TIMEOUT')
      assert.ok((await page.textContent('[data-k="last-error"]'))?.includes(`second ${evil}`), 'the message shows literally')
      assert.equal(await page.evaluate('window.pwned'), undefined, 'no injected code ran')
      assert.equal(await page.locator('main img, main script').count(), 0, 'no injected element')
      assert.deepEqual(seen.problems, [], 'no CSP violation or script error')
      await page.close()
    } finally {
      await server.close()
    }
  })
})
