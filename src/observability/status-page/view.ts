/**
 * The status page's body, rendered from a /status snapshot into an HTML string. The same function
 * renders the first paint on the server and every refresh in the browser: page.ts ships its source
 * text (Function.prototype.toString) in the page's inline script. So it must stay self-contained:
 * every helper is nested inside, it imports types only, and it touches no outside value.
 *
 * Pipeline ids, names, positions and error messages are user data: every value goes through `esc`
 * (text and double-quoted attributes alike), class names through `cls`, and numbers through `num`.
 */
import type { QueryStatus, StatusSnapshot } from '../status.ts'

/** The HTML of every query's panel (or a note when there is none). */
export function renderQueries(snapshot: StatusSnapshot): string {
  const esc = (v: unknown): string =>
    String(v).replace(/[&<>"'`]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c] ?? c)
  /** A class-name fragment: lower-case letters and dashes only, whatever the value holds. */
  const cls = (v: unknown): string => String(v).toLowerCase().replace(/[^a-z-]/g, '')
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
  /** Counts with thousands separators; rates with at most one decimal; a dash when unknown. */
  const num = (v: unknown, decimals = 0): string =>
    isNum(v) ? v.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 }) : '–'
  const time = (iso: unknown): string => (typeof iso === 'string' && iso.length >= 19 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '–')
  const item = (key: string, label: string, value: string): string => `<div><dt>${esc(label)}</dt><dd data-k="${esc(key)}">${value}</dd></div>`
  const generatedMs = Date.parse(snapshot.generatedAt)

  const chart = (q: QueryStatus): string => {
    const t = q.throughput
    const buckets = Array.isArray(t?.buckets) ? t.buckets : []
    const size = isNum(t?.bucketSeconds) && t.bucketSeconds > 0 ? t.bucketSeconds : 10
    // The newest bucket is still filling: its rate counts only the seconds it has had so far.
    const rates = buckets.map((b) => {
      const elapsed = Number.isFinite(generatedMs) ? (generatedMs - Date.parse(b.start)) / 1000 : size
      const seconds = Math.min(size, Math.max(1, Number.isFinite(elapsed) ? elapsed : size))
      return isNum(b.records) ? b.records / seconds : 0
    })
    const w = 600
    const h = 80
    const peak = Math.max(0, ...rates)
    const x = (i: number): number => (rates.length < 2 ? 0 : (i * w) / (rates.length - 1))
    const y = (r: number): number => (peak === 0 ? h - 1 : h - 1 - (r / peak) * (h - 6))
    const points = rates.map((r, i) => `${x(i).toFixed(1)},${y(r).toFixed(1)}`).join(' ')
    const minutes = Math.round((buckets.length * size) / 60)
    const caption = `records/s over the last ${minutes} min (${size} s steps) · peak ${num(peak, 1)}/s · now ${num(rates.at(-1) ?? 0, 1)}/s`
    return (
      `<figure class="chart"><svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="${esc(caption)}">` +
      (rates.length > 1 ? `<polygon class="area" points="0,${h} ${points} ${w},${h}"></polygon><polyline class="line" points="${points}"></polyline>` : '') +
      `</svg><figcaption>${esc(caption)}</figcaption></figure>`
    )
  }

  const partitions = (q: QueryStatus): string => {
    const rows = Object.entries(q.partitions ?? {}).map(
      ([key, p]) => `<tr><td>${esc(key)}</td><td>${esc(p.position ?? '–')}</td><td>${esc(p.latest ?? '–')}</td><td class="n">${num(p.lag)}</td></tr>`,
    )
    if (rows.length === 0) return '<p class="none">No partition reported yet.</p>'
    return `<table class="partitions"><thead><tr><th>partition</th><th>position</th><th>latest</th><th>lag</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  }

  const codes = (q: QueryStatus): string => {
    const d = q.totals?.destinations ?? {}
    const byCode = Object.entries(q.totals?.dlqByCode ?? {}).sort((a, b) => b[1] - a[1])
    const rows = byCode.map(([code, n]) => `<tr><td>dead letter</td><td><code>${esc(code)}</code></td><td class="n">${num(n)}</td></tr>`)
    // Late records all carry one code (records.ts): the count by destination is the count by code.
    if (isNum(d.late) && d.late > 0) rows.push(`<tr><td>late</td><td><code>LATE_DATA</code></td><td class="n">${num(d.late)}</td></tr>`)
    if (isNum(d.filtered) && d.filtered > 0) rows.push(`<tr><td>filtered</td><td>–</td><td class="n">${num(d.filtered)}</td></tr>`)
    if (isNum(d.dropped) && d.dropped > 0) rows.push(`<tr><td>dropped (tombstones)</td><td>–</td><td class="n">${num(d.dropped)}</td></tr>`)
    if (rows.length === 0) return '<p class="none">No dead letter, late or filtered record.</p>'
    return `<table class="codes"><thead><tr><th>went to</th><th>code</th><th>records</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  }

  const lastError = (q: QueryStatus): string => {
    const e = q.lastError
    if (!e) return '<p class="none" data-k="last-error">No error.</p>'
    const batch = isNum(e.batchId) ? ` · batch ${num(e.batchId)}` : ''
    return `<p class="error" data-k="last-error"><code>${esc(e.code)}</code> ${esc(e.message)} <span class="at">${esc(time(e.at))}${batch}</span></p>`
  }

  const outbox = (q: QueryStatus): string => {
    const o = q.outbox
    if (!o) return ''
    const failing = o.failingSince ? ` · failing since ${esc(time(o.failingSince))}: ${esc(o.lastError ?? '')}` : ''
    return `<p class="outbox${o.failingSince ? ' failing' : ''}">Kafka outbox: ${num(o.pending)} waiting${failing}</p>`
  }

  const panel = (q: QueryStatus): string => {
    const p = q.lastProgress
    const last = q.lastBatch
    const current = q.currentBatch ? `batch ${num(q.currentBatch.id)} running (attempt ${num(q.currentBatch.attempt)})` : 'none'
    const numbers = [
      item('records', 'records', num(q.totals?.records)),
      item('written', 'written', num(q.totals?.destinations?.table ?? 0)),
      item('batches', 'batches', num(q.batchesCommitted)),
      item('last-batch', 'last batch', last ? `#${num(last.id)} · ${num(last.records)} records` : '–'),
      item('duration', 'batch duration', last ? `${num(last.durationMs)} ms` : '–'),
      item('input-rate', 'input rate', p ? `${num(p.inputRowsPerSecond, 1)}/s` : '–'),
      item('processed-rate', 'processing rate', p ? `${num(p.processedRowsPerSecond, 1)}/s` : '–'),
      item('backlog', 'backlog', num(p?.backlog)),
      item('current', 'current batch', esc(current)),
      item('watermark', 'watermark', esc(time(q.watermark))),
    ]
    return (
      `<section class="query" data-pipeline="${esc(q.id)}">` +
      `<h2><span class="name">${esc(q.name)}</span>${q.name === q.id ? '' : ` <span class="id">${esc(q.id)}</span>`}` +
      ` <span class="badge state-${cls(q.state)}" data-k="state">${esc(q.state)}</span>` +
      ` <span class="badge circuit-${cls(q.circuit)}" data-k="circuit">circuit ${esc(q.circuit)}</span>` +
      ` <span class="since">since ${esc(time(q.stateSince))}</span></h2>` +
      `<dl class="numbers">${numbers.join('')}</dl>` +
      chart(q) +
      `<div class="tables"><div><h3>Partitions</h3>${partitions(q)}</div><div><h3>Dead letters and late records</h3>${codes(q)}</div></div>` +
      `<h3>Last error</h3>${lastError(q)}${outbox(q)}` +
      `</section>`
    )
  }

  const queries = Array.isArray(snapshot?.queries) ? snapshot.queries : []
  if (queries.length === 0) return '<p class="none">No pipeline is running in this process yet.</p>'
  return queries.map(panel).join('')
}
