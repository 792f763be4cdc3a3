/**
 * cleanSource (Spark's option of the same name): after the batch that read a file committed,
 * the file is moved into the archive folder (keeping its path relative to the source folder) or
 * deleted. It only ever runs on committed files, so a re-run batch never misses its input.
 */
import { copyFile, mkdir, rename, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export type CleanSource = 'off' | 'archive' | 'delete'

/** Archives or deletes one source file; a file already gone is not an error. */
export async function cleanFile(mode: CleanSource, sourceDir: string, name: string, archiveDir: string | null): Promise<void> {
  const from = join(sourceDir, name)
  try {
    if (mode === 'delete') {
      await unlink(from)
    } else if (mode === 'archive' && archiveDir !== null) {
      const to = join(archiveDir, name)
      await mkdir(dirname(to), { recursive: true })
      await move(from, to)
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to)
  } catch (err) {
    // Another file system: rename cannot cross it, copy then remove.
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    await copyFile(from, to)
    await unlink(from)
  }
}
