import { test } from 'node:test'
import assert from 'node:assert/strict'
import { batchProgress } from '../../engine/batch-report.ts'
import { EngineEvents } from '../../engine/events.ts'
import { QueryStatusBoard, type StatusSnapshot } from '../status.ts'
import { renderQueries } from './view.ts'

const EVIL = `<img src=x onerror="alert(1)">'"\`</script><script>alert(2)</script>&amp;`
const ALLOWED_TAGS = new Set(['section', 'h2', 'h3', 'span', 'dl', 'div', 'dt', 'dd', 'figure', 'svg', 'polygon', 'polyline', 'figcaption', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'p', 'code'])
const ALLOWED_ATTRIBUTES = new Set(['class', 'data-pipeline', 'data-k', 'viewBox', 'preserveAspectRatio', 'role', 'aria-label', 'points'])

/** A board fed with user data full of markup: ids, names, positions, codes, error messages. */
function evilSnapshot(): StatusSnapshot {
  const events = new EngineEvents()
  let now = Date.UTC(2026, 10, 25, 12, 0, 0)
  const board = new QueryStatusBoard(events, () => now)
  const id = `p${EVIL}`
  const partition = `t${EVIL}/0`
  board.register(id, `name${EVIL}`)
  events.emit('query.state', { pipelineId: id, state: 'running' })
  const planned = { batchId: 3, start: { [partition]: '1' }, end: { [partition]: EVIL }, watermarkMs: null, plannedAt: new Date(now - 500).toISOString() }
  events.emit('batch.committed', {
    pipelineId: id,
    batchId: 3,
    recordsRead: 1234,
    destinations: { table: 1200, dlq: 30, late: 4 },
    dlqByCode: { [`CODE${EVIL}`]: 30 },
    durationMs: 250,
    committedAt: now,
    maxRecordTimestampMs: null,
    position: planned.end,
    watermarkMs: null,
    progress: batchProgress(planned, 1234, 250, now - 2500, { [partition]: EVIL }),
  })
  events.emit('source.lag', { pipelineId: id, lag: { [partition]: 7 }, latest: { [partition]: EVIL } })
  events.emit('batch.failed', { pipelineId: id, batchId: 4, attempt: 1, code: 'SINK_UNAVAILABLE', retryable: true, message: `failed: ${EVIL}` })
  events.emit('outbox.pending', { pipelineId: id, rows: 2, topics: { dlq: 2 }, failingSinceMs: now - 1000, lastError: `broker ${EVIL}` })
  now += 1000
  return board.snapshot()
}

/** Every tag and attribute name in `html`: anything injected would show up as one not in the allow-lists. */
function markup(html: string): { tags: Set<string>; attributes: Set<string> } {
  const tags = new Set<string>()
  const attributes = new Set<string>()
  for (const m of html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)) {
    tags.add(m[1] as string)
    // Attribute values are double-quoted and escaped, so outside quotes only names remain.
    const outsideQuotes = (m[2] as string).replace(/"[^"]*"/g, '')
    for (const a of outsideQuotes.matchAll(/([a-zA-Z][a-zA-Z0-9-]*)\s*=/g)) attributes.add(a[1] as string)
    assert.doesNotMatch(outsideQuotes.replace(/[a-zA-Z][a-zA-Z0-9-]*\s*=/g, ''), /\S/, `only name="value" pairs in <${m[1]}${m[2]}>`)
  }
  return { tags, attributes }
}

test('user data is escaped everywhere: no injected tag or attribute, the text shows literally', () => {
  const html = renderQueries(evilSnapshot())
  const { tags, attributes } = markup(html)
  for (const t of tags) assert.ok(ALLOWED_TAGS.has(t), `unexpected tag <${t}>`)
  for (const a of attributes) assert.ok(ALLOWED_ATTRIBUTES.has(a), `unexpected attribute ${a}`)
  assert.doesNotMatch(html, /<img|<script|onerror="/i)
  const escaped = '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&quot;&#96;&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;&amp;amp;'
  for (const where of [`data-pipeline="p${escaped}"`, `<span class="name">name${escaped}</span>`, `<td>t${escaped}/0</td>`, `<code>CODE${escaped}</code>`, `failed: ${escaped}`, `broker ${escaped}`]) {
    assert.ok(html.includes(where), `escaped: ${where}`)
  }
})

test('the page shows the numbers: state, records, rates, backlog, DLQ and late by code, circuit, last error', () => {
  const html = renderQueries(evilSnapshot())
  assert.match(html, /data-k="state">running</)
  assert.match(html, /data-k="circuit">circuit closed</)
  assert.match(html, /data-k="records">1,234</)
  assert.match(html, /data-k="duration">250 ms</)
  assert.match(html, /data-k="input-rate">617\/s</)
  assert.match(html, /data-k="processed-rate">4,936\/s</)
  assert.match(html, /<code>LATE_DATA<\/code><\/td><td class="n">4</)
  assert.match(html, /<td class="n">30<\/td>/)
  assert.match(html, /data-k="last-error"><code>SINK_UNAVAILABLE<\/code>/)
  assert.match(html, /<polyline class="line" points="[\d., ]+">/)
  assert.match(html, /peak 1,234\/s/, 'the batch landed in the newest bucket, 1 s old at the snapshot')
})

test('values of the wrong type never reach the page raw (numbers, class names)', () => {
  const snap = evilSnapshot()
  const q = snap.queries[0]
  assert.ok(q)
  const hostile = q as unknown as Record<string, unknown>
  hostile.state = `running" onmouseover="alert(3)`
  hostile.circuit = '<b>open</b>'
  hostile.batchesCommitted = '<b>5</b>'
  ;(hostile.totals as Record<string, unknown>).records = '<i>1</i>'
  const html = renderQueries(snap)
  assert.match(html, /class="badge state-runningonmouseoveralert"/)
  assert.match(html, /class="badge circuit-bopenb"/)
  assert.match(html, /data-k="batches">–</)
  assert.match(html, /data-k="records">–</)
  assert.doesNotMatch(html, /<b>|<i>|onmouseover="/)
})

test('no pipeline yet, and a malformed snapshot, render a note instead of failing', () => {
  assert.match(renderQueries({ generatedAt: new Date(0).toISOString(), queries: [] }), /No pipeline is running/)
  assert.match(renderQueries({} as StatusSnapshot), /No pipeline is running/)
})

test('the renderer is self-contained: its source text alone renders the same page (as the browser runs it)', () => {
  const standalone = new Function(`return (${renderQueries.toString()})`)() as typeof renderQueries
  const snap = evilSnapshot()
  assert.equal(standalone(snap), renderQueries(snap))
})
