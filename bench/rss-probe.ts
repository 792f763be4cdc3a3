/**
 * Preloaded into the pipeline's process (`node --import bench/rss-probe.ts`): at exit it prints
 * the process's peak resident set size, so memory is measured from outside src/.
 */
import { writeSync } from 'node:fs'

process.on('exit', () => {
  writeSync(2, `\nSLUICE_BENCH_MAXRSS_KB ${process.resourceUsage().maxRSS}\n`)
})
