/**
 * The layout rules the README states, checked on every run: the engine imports no component (it
 * talks to sources and sinks through src/api/ only), and no module imports itself through others
 * (an import cycle makes load order, and so start-up, depend on which file is imported first).
 * Test files and test kits are left out: they may wire anything together.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { glob } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const src = dirname(fileURLToPath(import.meta.url))
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g

async function moduleGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>()
  for await (const file of glob('**/*.ts', { cwd: src })) {
    if (file.endsWith('.test.ts') || file.endsWith('testkit.ts')) continue
    const text = readFileSync(join(src, file), 'utf8')
    const deps: string[] = []
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]
      if (spec === undefined || !spec.startsWith('.')) continue
      // `import type` is erased at run time, so it cannot form a load-order cycle.
      if (/^\s*(?:import|export)\s+type\s/.test(m[0].replace(/^\n/, ''))) continue
      deps.push(relative(src, resolve(src, dirname(file), spec)))
    }
    graph.set(file, deps)
  }
  return graph
}

test('the engine imports no component (only the contracts in src/api/)', async () => {
  const graph = await moduleGraph()
  const offending: string[] = []
  for (const [file, deps] of graph) {
    if (!file.startsWith('engine/')) continue
    for (const d of deps) if (d.startsWith('components/')) offending.push(`${file} -> ${d}`)
  }
  assert.ok(graph.size > 50, 'the scan found the sources')
  assert.deepEqual(offending, [])
})

test('there are no import cycles among the modules', async () => {
  const graph = await moduleGraph()
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]): void => {
    const s = state.get(file)
    if (s === 'done') return
    if (s === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '))
      return
    }
    state.set(file, 'open')
    for (const d of graph.get(file) ?? []) if (graph.has(d)) visit(d, [...path, file])
    state.set(file, 'done')
  }
  for (const file of graph.keys()) visit(file, [])
  assert.deepEqual(cycles, [])
})
