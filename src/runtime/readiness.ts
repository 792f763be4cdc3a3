/** Readiness of running queries: sink reachable, source reachable, circuit closed. */
import type { AssembledPipeline } from './assemble.ts'

const PROBE_TIMEOUT_MS = 2000

/** Probes every query; ok only when all checks pass. */
export async function readiness(pipelines: readonly AssembledPipeline[]): Promise<{ ok: boolean; checks: Record<string, boolean | string> }> {
  const checks: Record<string, boolean | string> = {}
  await Promise.all(
    pipelines.map(async (p) => {
      const id = p.config.pipelineId
      const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS)
      checks[`${id}.sink`] = await probe(() => p.sink.ping(signal))
      checks[`${id}.source`] = p.source.latest ? await probe(async () => void (await p.source.latest?.(signal))) : true
      checks[`${id}.circuit`] = p.breaker.state === 'closed' ? true : p.breaker.state
    }),
  )
  return { ok: Object.values(checks).every((v) => v === true), checks }
}

async function probe(fn: () => Promise<void>): Promise<boolean | string> {
  try {
    await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS).unref())])
    return true
  } catch (err) {
    return err instanceof Error ? err.message.slice(0, 200) : 'failed'
  }
}
