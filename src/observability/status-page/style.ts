/** The status page's inline style sheet (no web fonts, no images: it must render offline). */
export const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #5c6670; --bg: #f6f7f9; --panel: #fff; --line: #d8dde3; --accent: #1f6feb; --bad: #c62828; --warn: #b26a00; --ok: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa4ae; --bg: #0f1216; --panel: #171b21; --line: #2b323b; --accent: #58a6ff; --bad: #ff7b72; --warn: #e3b341; --ok: #3fb950; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: baseline; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0; font-size: 1.2rem; }
#updated { color: var(--muted); }
body.stale #updated { color: var(--bad); font-weight: 600; }
.links { margin-left: auto; display: flex; gap: .75rem; }
a { color: var(--accent); }
main { padding: 1rem 1.25rem; display: grid; gap: 1rem; }
.query { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; }
.query h2 { margin: 0 0 .75rem; font-size: 1.1rem; display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
.query h3 { margin: 1rem 0 .35rem; font-size: .95rem; color: var(--muted); font-weight: 600; }
.id, .since, .at, .none { color: var(--muted); font-weight: 400; font-size: .9rem; }
.badge { font-size: .8rem; font-weight: 600; padding: .1rem .5rem; border-radius: 999px; border: 1px solid currentColor; }
.state-running, .state-idle, .circuit-closed { color: var(--ok); }
.state-starting, .state-stopping, .state-backoff, .circuit-half-open { color: var(--warn); }
.state-failed, .state-stopped, .circuit-open { color: var(--bad); }
.numbers { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .5rem 1rem; margin: 0; }
.numbers dt { color: var(--muted); font-size: .8rem; }
.numbers dd { margin: 0; font-size: 1.05rem; font-variant-numeric: tabular-nums; }
.chart { margin: 1rem 0 0; }
.chart svg { width: 100%; height: 80px; display: block; border-bottom: 1px solid var(--line); }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
.chart .area { fill: var(--accent); opacity: .15; }
.chart figcaption { color: var(--muted); font-size: .8rem; margin-top: .25rem; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 0 1.5rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .2rem .5rem .2rem 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; }
td.n { text-align: right; }
code { font: .85rem ui-monospace, SFMono-Regular, Menlo, monospace; }
.error { color: var(--bad); margin: 0; overflow-wrap: anywhere; }
.outbox.failing { color: var(--warn); }
`
