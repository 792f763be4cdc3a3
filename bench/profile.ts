/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`): self time per function
 * and per file, and total (inclusive) time of the functions that matter, so hot spots can be
 * named precisely.
 *
 *   node bench/profile.ts DIR/eo-append.cpuprofile [--top 30] [--filter substring]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface Node {
  readonly id: number
  readonly callFrame: { functionName: string; url: string; lineNumber: number }
  readonly children?: number[]
}
interface Profile {
  readonly nodes: Node[]
  readonly samples: number[]
  readonly timeDeltas: number[]
  readonly startTime: number
  readonly endTime: number
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, filter: { type: 'string' } } })
const file = positionals[0]
if (!file) throw new Error('usage: node bench/profile.ts FILE.cpuprofile')
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile
const top = Number(values.top)

const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const self = new Map<number, number>()
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)))

const short = (url: string): string => url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, 'nm:')
const label = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
const total = [...self.values()].reduce((a, b) => a + b, 0)
const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`

const selfByFn = new Map<string, number>()
const selfByFile = new Map<string, number>()
const inclByFn = new Map<string, number>()
for (const [id, t] of self) {
  const n = byId.get(id) as Node
  selfByFn.set(label(n), (selfByFn.get(label(n)) ?? 0) + t)
  const f = short(n.callFrame.url) || `(${n.callFrame.functionName})`
  selfByFile.set(f, (selfByFile.get(f) ?? 0) + t)
  // Inclusive: every distinct function on the stack gets the sample once.
  const seen = new Set<string>()
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur) as Node)
    if (seen.has(l)) continue
    seen.add(l)
    inclByFn.set(l, (inclByFn.get(l) ?? 0) + t)
  }
}
const show = (title: string, m: Map<string, number>): void => {
  console.log(`\n== ${title}`)
  const rows = [...m].filter(([k]) => !values.filter || k.includes(values.filter)).sort((a, b) => b[1] - a[1]).slice(0, top)
  for (const [k, v] of rows) console.log(`${ms(v)}  ${k}`)
}
console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled (wall ${((prof.endTime - prof.startTime) / 1e6).toFixed(2)} s)`)
show('self time by file', selfByFile)
show('self time by function', selfByFn)
show('inclusive time by function', inclByFn)
