/**
 * Writes the quickstart's data set: four hourly NDJSON files of click events (deterministic, seeded),
 * with a few bad records and a few late ones on purpose, so the demo shows every destination:
 *  - bad: invalid JSON, a missing user_id (schema violation), a country code too long for its column
 *  - late: events from the first hour appearing in the last file, behind the 10-minute watermark
 * Run: npx node examples/quickstart/generate-data.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = join(import.meta.dirname, 'data')
mkdirSync(dir, { recursive: true })
let seed = 20261125
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed / 2 ** 31
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
const pages = ['/', '/pricing', '/docs', '/docs/quickstart', '/blog', '/signup', '/checkout']
const countries = ['US', 'DE', 'FR', 'IN', 'BR', 'JP', 'GB', 'NL']
const devices = ['desktop', 'mobile', 'tablet']
const start = Date.UTC(2026, 10, 25, 8, 0, 0)
let id = 1

for (let hour = 0; hour < 4; hour++) {
  const lines: string[] = []
  for (let i = 0; i < 1000; i++) {
    const t = start + hour * 3_600_000 + Math.floor((i / 1000) * 3_600_000 + rand() * 30_000)
    lines.push(
      JSON.stringify({
        click_id: id++,
        user_id: `user-${Math.floor(rand() * 400)}`,
        page: pick(pages),
        country: pick(countries),
        device: pick(devices),
        duration_ms: Math.floor(rand() * 20_000),
        event_time: new Date(t).toISOString(),
      }),
    )
  }
  if (hour === 1) {
    lines.splice(100, 0, '{"click_id": 900001, "user_id": "user-1", "page": "/", ') // truncated JSON
    lines.splice(400, 0, JSON.stringify({ click_id: 900002, page: '/docs', country: 'US', device: 'mobile', duration_ms: 5, event_time: new Date(start + 5_400_000).toISOString() })) // no user_id
    lines.splice(700, 0, JSON.stringify({ click_id: 900003, user_id: 'user-7', page: '/', country: 'Germany', device: 'desktop', duration_ms: 5, event_time: new Date(start + 5_500_000).toISOString() })) // country too long for char(2)
  }
  if (hour === 2) {
    lines.splice(500, 0, 'not json at all')
    lines.splice(600, 0, JSON.stringify({ click_id: 900004, user_id: 'user-9', page: '/pricing', country: 'FR', device: 'watch', duration_ms: -3, event_time: 'yesterday' })) // schema: bad enum, negative, bad time
  }
  if (hour === 3) {
    for (let k = 0; k < 5; k++) {
      lines.splice(200 * k + 50, 0, JSON.stringify({ click_id: 800001 + k, user_id: `user-${k}`, page: '/blog', country: 'NL', device: 'mobile', duration_ms: 1200, event_time: new Date(start + 600_000 * k).toISOString() })) // hour 0: late
    }
  }
  writeFileSync(join(dir, `clicks-2026-11-25T${String(8 + hour).padStart(2, '0')}.ndjson`), `${lines.join('\n')}\n`)
}
process.stdout.write(`wrote 4 files to ${dir}\n`)
