/**
 * Sluice's own files are private: the checkpoint folder, the embedded database folder and the lock
 * files hold positions and table data, so they are created owner-only (folders 0700, files 0600)
 * whatever the umask. Sluice's own code passes these modes; PGlite's file system layer (Emscripten's
 * NODEFS) creates each file and then sets its mode explicitly with `chmodSync(path, 0o666)`, which
 * no umask can narrow. `keepPrivate(folder)` therefore narrows the modes of that one folder's files:
 * it wraps the `chmodSync` of the CommonJS `fs` object, which PGlite uses, for paths inside the
 * registered folders only (ES-module imports of node:fs and every other path are untouched), and
 * narrows what is already there.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs'
import { chmod, mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve, sep } from 'node:path'
import { isMainThread } from 'node:worker_threads'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** Adds 077 to the process umask, so every file created from now on is owner-only. */
export function restrictUmask(): void {
  // Worker threads cannot change the umask (it is per process); the main thread already did.
  if (!isMainThread) return
  const previous = process.umask(0o077)
  process.umask(previous | 0o077)
}

/** `mkdir -p` where every folder it creates is 0700 (existing folders are left as they are). */
export async function mkdirPrivate(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE })
  if (first !== undefined) for (const dir of createdChain(first, path)) await chmod(dir, PRIVATE_DIR_MODE)
}

/** Synchronous mkdirPrivate. */
export function mkdirPrivateSync(path: string): void {
  const first = mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE })
  if (first !== undefined) for (const dir of createdChain(first, path)) chmodSync(dir, PRIVATE_DIR_MODE)
}

/** The folders from `first` (the first one mkdir created) down to `leaf`. */
function createdChain(first: string, leaf: string): string[] {
  const chain: string[] = []
  for (let dir = leaf; dir.length >= first.length; dir = dirname(dir)) {
    chain.push(dir)
    if (dir === first || dirname(dir) === dir) break
  }
  return chain
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Folders whose files keepPrivate narrows. */
const privateRoots = new Set<string>()
let patched = false

/** Owner bits only: 0666 -> 0600, 0777 -> 0700. */
function narrow(mode: number): number {
  return mode & ~0o077
}

function isPrivatePath(path: string): boolean {
  const full = resolve(path)
  for (const root of privateRoots) if (full === root || full.startsWith(root + sep)) return true
  return false
}

/**
 * Keeps every file and folder inside `root` owner-only from now on (see the file comment), and
 * narrows the modes of what is there already.
 */
export function keepPrivate(root: string): void {
  privateRoots.add(resolve(root))
  if (!patched) {
    patched = true
    const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs')
    const original = fs.chmodSync
    fs.chmodSync = function chmodSyncPrivate(path, mode) {
      const wanted = typeof mode === 'string' ? Number.parseInt(mode, 8) : mode
      return original(path, typeof path === 'string' && isPrivatePath(path) ? narrow(wanted) : mode)
    }
  }
  narrowTree(resolve(root))
}

/** Narrows the modes of `path` and everything below it (symbolic links are not followed). */
export function narrowTree(path: string): void {
  const info = lstatSync(path, { throwIfNoEntry: false })
  if (info === undefined || info.isSymbolicLink()) return
  const mode = info.mode & 0o777
  if (narrow(mode) !== mode) chmodSync(path, narrow(mode))
  if (info.isDirectory()) for (const name of readdirSync(path)) narrowTree(join(path, name))
}
