#!/usr/bin/env node
// The production command: run it directly (or exec it from systemd or a container entrypoint) so
// that SIGTERM reaches Sluice itself.
//
// Signals first: until this line runs, a SIGTERM gets Node's default action (exit 143). Loading
// the rest of Sluice and the pipeline files takes a while, so signals are only held here and
// handed to the shutdown module (src/runtime/shutdown.ts) once it is loaded: a SIGTERM at any
// moment from here on is a clean stop.
const held = []
const hold = (signal) => held.push(signal)
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, hold)

// V8's code cache on disk (Node >= 22.1): later starts skip parsing and compiling Sluice's and its
// dependencies' modules (and, in a checkout, stripping their types): about 0.2 s of CPU per start.
// The cache is in NODE_COMPILE_CACHE, else in the user's own cache folder, never in Node's default
// (a shared folder in /tmp that another local user could have created and filled: what is in the
// cache runs as code). NODE_DISABLE_COMPILE_CACHE=1 turns it off; a folder that cannot be written
// only costs that time.
const { enableCompileCache } = await import('node:module')
const { homedir } = await import('node:os')
const { isAbsolute, join } = await import('node:path')
const userCacheFolder = () => {
  if (process.env.XDG_CACHE_HOME && isAbsolute(process.env.XDG_CACHE_HOME)) return process.env.XDG_CACHE_HOME
  try {
    const home = homedir() // throws for a user id without a passwd entry (some containers)
    return isAbsolute(home) ? join(home, '.cache') : undefined
  } catch {
    return undefined
  }
}
const cacheBase = process.env.NODE_COMPILE_CACHE ? undefined : userCacheFolder()
const compileCache = process.env.NODE_COMPILE_CACHE || (cacheBase && join(cacheBase, 'sluice', 'node-compile-cache'))
if (enableCompileCache && compileCache) enableCompileCache(compileCache)

// In a checkout, run the TypeScript sources (Node >= 22.18 strips types itself), so a stale dist/
// never runs by mistake; an installed package ships only dist/ and runs that.
const { existsSync } = await import('node:fs')
const fromSource = existsSync(new URL('../src/cli/main.ts', import.meta.url)) && process.features.typescript
const root = new URL(fromSource ? '../src/' : '../dist/', import.meta.url)
const ext = fromSource ? '.ts' : '.js'
const shutdown = await import(new URL(`runtime/shutdown${ext}`, root).href)
shutdown.installShutdownHandlers({ graceful: shutdown.isRunCommand(process.argv), held })
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.off(signal, hold)
const { main } = await import(new URL(`cli/main${ext}`, root).href)
try {
  process.exitCode = await main(process.argv)
} catch (err) {
  // As src/cli/main.ts does when run directly: one line, no stack trace.
  process.stderr.write(`sluice: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
}
