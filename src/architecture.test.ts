/**
 * The layout rules the README states ("Layout"), checked on every run: the engine imports no
 * component (it talks to sources and sinks through src/api/ only); no module imports itself through
 * others (an import cycle makes load order, and so start-up, depend on which file is imported
 * first); reliability/ holds no Kafka code; every Kafka client is made by components/kafka/clients.ts;
 * and a source folder is imported only by the registry (and the shared code of its own family), so
 * adding a source is its folder plus one registry line. Test files and test kits are left out: they
 * may wire anything together.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { glob } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const src = dirname(fileURLToPath(import.meta.url))
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g

/** One module's imports: relative ones resolved to paths under src/, packages by name. */
interface Imports {
  /** Modules loaded at run time (`import type` is erased, so it is not here). */
  readonly runtime: string[]
  /** Every module named, type-only imports too. */
  readonly all: string[]
  /** Packages loaded at run time. */
  readonly packages: string[]
  readonly text: string
}

async function scan(): Promise<Map<string, Imports>> {
  const found = new Map<string, Imports>()
  for await (const file of glob('**/*.ts', { cwd: src })) {
    if (file.endsWith('.test.ts') || file.endsWith('testkit.ts')) continue
    const text = readFileSync(join(src, file), 'utf8')
    const imports: Imports = { runtime: [], all: [], packages: [], text }
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]
      if (spec === undefined || spec.startsWith('node:')) continue
      const typeOnly = /^\s*(?:import|export)\s+type\s/.test(m[0].replace(/^\n/, ''))
      if (!spec.startsWith('.')) {
        if (!typeOnly) imports.packages.push(spec)
        continue
      }
      const path = relative(src, resolve(src, dirname(file), spec))
      imports.all.push(path)
      if (!typeOnly) imports.runtime.push(path)
    }
    found.set(file, imports)
  }
  return found
}

async function moduleGraph(): Promise<Map<string, string[]>> {
  return new Map([...(await scan())].map(([file, i]) => [file, i.runtime]))
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

test('reliability/ holds no Kafka code: it imports no component and no Kafka client', async () => {
  const offending: string[] = []
  for (const [file, i] of await scan()) {
    if (!file.startsWith('reliability/')) continue
    for (const d of i.all) if (d.startsWith('components/')) offending.push(`${file} -> ${d}`)
    for (const p of i.packages) if (p.includes('kafka')) offending.push(`${file} -> ${p}`)
  }
  assert.deepEqual(offending, [])
})

test('every Kafka client is made by the one client factory (components/kafka/clients.ts)', async () => {
  const makers: string[] = []
  for (const [file, i] of await scan()) if (/\bnew\s+(?:Admin|Consumer|Producer)\s*[(<]/.test(i.text)) makers.push(file)
  assert.deepEqual(makers, ['components/kafka/clients.ts'])
})

test('a source folder is imported only by the registry (and by the shared code of its own family)', async () => {
  const modules = await scan()
  const folders = new Set([...modules.keys()].map((f) => /^components\/sources\/([^/]+)\//.exec(f)?.[1]).filter((n) => n !== undefined))
  assert.deepEqual([...folders].sort(), ['file', 'generator', 'kafka'], 'the scan found the source folders')
  const importers = new Map<string, Set<string>>()
  for (const [file, i] of modules) {
    for (const d of i.all) {
      const name = /^components\/sources\/([^/]+)\//.exec(d)?.[1]
      if (name === undefined || file.startsWith(`components/sources/${name}/`)) continue
      // components/kafka/ is the Kafka family's shared code (connection, clients, the outbox relay).
      if (file.startsWith(`components/${name}/`)) continue
      importers.set(name, (importers.get(name) ?? new Set()).add(file))
    }
  }
  for (const name of folders) assert.deepEqual([...(importers.get(name) ?? [])], ['components/registry.ts'], `components/sources/${name}/`)
})

test('no module outside the source folders branches on a sourceType other than kafka (whose brokers the Kafka DLQ may share)', async () => {
  const branches: string[] = []
  for (const [file, i] of await scan()) {
    if (file.startsWith('components/sources/')) continue
    for (const m of i.text.matchAll(/sourceType'?\]?\s*[!=]==?\s*'([^']+)'/g)) branches.push(`${file}: ${m[1]}`)
  }
  assert.ok(branches.length > 0, 'the scan sees the Kafka lookups')
  assert.deepEqual(branches.filter((b) => !b.endsWith(': kafka')), [])
})
