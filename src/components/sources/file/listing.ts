/**
 * Which files of the source folder are ready to read, and in what order.
 *
 * The completeness rule (documented for users in the file source's summary):
 * - Names starting with `.` or `_`, and names ending in `.tmp` or `.partial`, are never read: a
 *   writer that writes under such a name and renames the file into place (`mv` is atomic within one
 *   file system) hands over a complete file.
 * - Any other file is read once it has not been modified for `stableMs` (default 1000 ms): a file
 *   still being written keeps getting a fresh modification time, so it waits.
 * - Once read, a file must not change; appended lines would not be read (as in Spark).
 * Only the folder itself is listed, not its subfolders (so an archive folder inside it is safe).
 */
import { readdir, stat } from 'node:fs/promises'
import { join, matchesGlob } from 'node:path'
import { SluiceError } from '../../../errors.ts'

/** A file that passed the name rules. */
export interface ListedFile {
  /** Path relative to the source folder (its name, as the listing is not recursive). */
  readonly name: string
  readonly size: number
  readonly mtimeMs: number
}

export interface ListOptions {
  readonly dir: string
  readonly pattern: string | undefined
  readonly order: 'name' | 'mtime'
  readonly stableMs: number
  readonly now: number
  /** Names to leave out without a stat (files already done). */
  readonly skip?: (name: string) => boolean
}

/** True when the name marks a file still being written or not meant to be read. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_') || name.endsWith('.tmp') || name.endsWith('.partial')
}

/** True when the file has been quiet long enough to be read. */
export function isStable(file: ListedFile, now: number, stableMs: number): boolean {
  return now - file.mtimeMs >= stableMs
}

/** Lists the folder: files that pass the name rules and the pattern, in read order (stable or not). */
export async function listFiles(options: ListOptions): Promise<ListedFile[]> {
  let entries
  try {
    entries = await readdir(options.dir, { withFileTypes: true })
  } catch (cause) {
    throw new SluiceError('SOURCE_UNAVAILABLE', `cannot list the source folder ${options.dir}`, { cause })
  }
  const files: ListedFile[] = []
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue
    const name = entry.name
    if (isIgnoredName(name)) continue
    if (options.pattern !== undefined && !matchesGlob(name, options.pattern)) continue
    if (options.skip?.(name)) continue
    try {
      const info = await stat(join(options.dir, name))
      if (info.isFile()) files.push({ name, size: info.size, mtimeMs: info.mtimeMs })
    } catch {
      // Gone between readdir and stat (renamed away or cleaned up): not there.
    }
  }
  return sortFiles(files, options.order)
}

/** Files ready to read, in read order. */
export async function listStableFiles(options: ListOptions): Promise<ListedFile[]> {
  return (await listFiles(options)).filter((f) => isStable(f, options.now, options.stableMs))
}

/** Orders by name, or by modification time then name. */
export function sortFiles<T extends ListedFile>(files: T[], order: 'name' | 'mtime'): T[] {
  const byName = (a: ListedFile, b: ListedFile): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  return files.sort(order === 'name' ? byName : (a, b) => a.mtimeMs - b.mtimeMs || byName(a, b))
}
