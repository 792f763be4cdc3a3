/**
 * Readiness of running queries: sink reachable, source reachable, circuit closed, and the Kafka
 * outbox not stuck (its rows failing to publish for longer than outboxConfig.stuckAfterSeconds).
 */
import { type AssembledPipeline, outboxSettings } from './assemble.ts'
import { redactText } from '../secrets.ts'
import type { OutboxState } from '../components/kafka/outbox/relay.ts'

const PROBE_TIMEOUT_MS = 2000

/** Probes every query; ok only when all checks pass. */
export async function readiness(pipelines: readonly AssembledPipeline[], now: () => number = Date.now): Promise<{ ok: boolean; checks: Record<string, boolean | string> }> {
  const checks: Record<string, boolean | string> = {}
  await Promise.all(
    pipelines.map(async (p) => {
      const id = p.config.pipelineId
      const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS)
      checks[`${id}.sink`] = await probe(() => p.store.ping(signal))
      checks[`${id}.source`] = p.source.latest ? await probe(async () => void (await p.source.latest?.(signal))) : true
      checks[`${id}.circuit`] = p.breaker.state === 'closed' ? true : p.breaker.state
      if (p.outbox) checks[`${id}.outbox`] = outboxCheck(p.outbox.state, outboxSettings(p.config).stuckAfterSeconds * 1000, now())
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

/** True unless rows wait and publishing them has failed for longer than `stuckAfterMs`. */
export function outboxCheck(state: OutboxState, stuckAfterMs: number, nowMs: number): true | string {
  const { pending, failingSinceMs, lastError } = state
  if (pending === null || pending === 0 || failingSinceMs === null) return true
  const stuckMs = nowMs - failingSinceMs
  if (stuckMs < stuckAfterMs) return true
  return `${pending} record(s) waiting in the outbox, not published for ${Math.round(stuckMs / 1000)} s: ${redactText(lastError ?? 'unknown error').slice(0, 300)}`
}
