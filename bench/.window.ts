import { readFileSync } from 'node:fs'
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8'))
const marker = process.argv[3] ?? 'readPartitions'
const byId = new Map<number, any>(prof.nodes.map((n: any) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
let t = 0; let end = -1
const stackHas = (id: number, name: string): boolean => { for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) if (byId.get(x).callFrame.functionName === name) return true; return false }
for (let i = 0; i < prof.samples.length; i++) { t += prof.timeDeltas[i]; if (stackHas(prof.samples[i], marker)) { end = i; break } }
console.log(`first ${marker} sample at ${(t / 1000).toFixed(0)} ms after profile start`)
const agg = new Map<string, number>()
for (let i = 0; i < end; i++) {
  const n = byId.get(prof.samples[i]); const u: string = n.callFrame.url
  const k = u.includes('node_modules/') ? 'nm:' + u.split('node_modules/')[1]!.split('/').slice(0, u.includes('node_modules/@') ? 2 : 1).join('/') : u.startsWith('file://') ? 'src:' + (u.split('/src/')[1] ?? u) : u.startsWith('node:') ? 'node-internal' : n.callFrame.functionName || '(?)'
  agg.set(k, (agg.get(k) ?? 0) + prof.timeDeltas[i])
}
for (const [k, v] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((v / 1000).toFixed(0).padStart(6), k)
