import { readFileSync } from 'node:fs'
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8'))
const want = process.argv[3]!
const self = new Map<number, number>()
prof.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)))
const parent = new Map<number, any>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n)
const agg = new Map<string, number>()
for (const n of prof.nodes) {
  if ((n.callFrame.functionName || '(anonymous)') !== want) continue
  let p = parent.get(n.id); let chain: string[] = []
  for (let d = 0; d < 3 && p; d++) { chain.push(`${p.callFrame.functionName}@${p.callFrame.url.split('/').slice(-1)[0]}:${p.callFrame.lineNumber + 1}`); p = parent.get(p.id) }
  const k = chain.join(' < ')
  agg.set(k, (agg.get(k) ?? 0) + (self.get(n.id) ?? 0))
}
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log((v / 1000).toFixed(0).padStart(6), k)
