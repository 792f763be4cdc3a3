#!/usr/bin/env node
// In a checkout, run the TypeScript sources (Node >= 22.18 strips types itself), so a stale dist/
// never runs by mistake; an installed package ships only dist/ and runs that.
import { existsSync } from 'node:fs'
const source = new URL('../src/cli/main.ts', import.meta.url)
const compiled = new URL('../dist/cli/main.js', import.meta.url)
const entry = existsSync(source) && process.features.typescript ? source : compiled
const { main } = await import(entry.href)
process.exitCode = await main(process.argv)
