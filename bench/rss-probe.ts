/**
 * Preloaded into the pipeline's process (`node --import bench/rss-probe.ts`): at exit it prints
 * the process's peak resident set size and CPU time (user + system), so both are measured from
 * outside src/.
 */
import { writeSync } from 'node:fs'

process.on('exit', () => {
  const u = process.resourceUsage()
  writeSync(2, `\nSLUICE_BENCH_MAXRSS_KB ${u.maxRSS}\nSLUICE_BENCH_CPU_US ${u.userCPUTime + u.systemCPUTime}\n`)
})
