/**
 * The status page served at `/`: one self-contained HTML document (inline CSS and script, no
 * external asset, so it works offline and behind any firewall). The server paints it from the
 * current snapshot; the inline script then fetches `status` (the /status JSON, same origin) every
 * REFRESH_MS and repaints with the same renderer (view.ts).
 *
 * The Content-Security-Policy allows nothing but this page's own inline style and script (by
 * their SHA-256, not 'unsafe-inline') and requests to its own origin: even if an escaping bug let
 * markup through, an injected script or event handler would not run, and nothing could be sent
 * elsewhere.
 */
import { createHash } from 'node:crypto'
import type { StatusSnapshot } from '../status.ts'
import { renderQueries } from './view.ts'
import { STYLE } from './style.ts'

/** How often the page fetches /status again (ms). */
export const REFRESH_MS = 2_000

const SCRIPT = `"use strict";
(() => {
  const render = ${renderQueries.toString()};
  const main = document.getElementById("queries");
  const stamp = document.getElementById("updated");
  const refresh = async () => {
    try {
      const res = await fetch("status", { cache: "no-store", headers: { accept: "application/json" } });
      if (!res.ok) throw new Error("HTTP " + res.status);
      const snapshot = await res.json();
      main.innerHTML = render(snapshot);
      stamp.textContent = "updated " + String(snapshot.generatedAt).slice(11, 19) + " UTC";
      document.body.classList.remove("stale");
    } catch (err) {
      document.body.classList.add("stale");
      stamp.textContent = "cannot reach /status (" + (err instanceof Error ? err.message : String(err)) + "); retrying";
    } finally {
      setTimeout(refresh, ${REFRESH_MS});
    }
  };
  setTimeout(refresh, ${REFRESH_MS});
})();
`

// The inline blocks must not be able to end their own element early.
for (const [name, text] of [
  ['script', SCRIPT],
  ['style', STYLE],
] as const) {
  if (/<\/(script|style)|<!--/i.test(text)) throw new Error(`status page: the inline ${name} contains a closing tag or comment opener`)
}

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`

/** The page's Content-Security-Policy header value. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Headers sent with the page besides Content-Type (no caching, no framing, no sniffing, no referrer). */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': STATUS_PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
}

/** The whole HTML document for `snapshot`. */
export function renderStatusPage(snapshot: StatusSnapshot): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>Sluice</h1><span id="updated">updated ${snapshot.generatedAt.slice(11, 19).replace(/[^0-9:]/g, '')} UTC</span><span class="links"><a href="status">/status</a> <a href="metrics">/metrics</a> <a href="ready">/ready</a></span></header>
<main id="queries">${renderQueries(snapshot)}</main>
<script>${SCRIPT}</script>
</body>
</html>
`
}
