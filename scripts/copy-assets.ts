/** Copies the non-TypeScript files the compiled code reads at run time (the .sql files) from src/ to dist/. */
import { cp, glob, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'

let copied = 0
for await (const file of glob('src/**/*.sql')) {
  const target = join('dist', file.slice('src/'.length))
  await mkdir(dirname(target), { recursive: true })
  await cp(file, target)
  copied++
}
process.stdout.write(`copied ${copied} asset(s) to dist/\n`)
