/**
 * Failpoints for crash tests (in the spirit of FreeBSD's fail(9) and TiKV's fail-rs): named points
 * in the commit protocol where a test can make the process die with SIGKILL, or pause, to prove
 * that a crash at that exact moment loses and duplicates nothing. Inactive unless the environment
 * variable SLUICE_FAILPOINTS is set, e.g. `after-copy@3=kill,before-commit@1=sleep:3000`
 * (point @ batch id = action). The cost when inactive is one Map lookup.
 */
type Action = { readonly kind: 'kill' } | { readonly kind: 'sleep'; readonly ms: number }

const points = parse(process.env.SLUICE_FAILPOINTS ?? '')

function parse(spec: string): Map<string, Action> {
  const map = new Map<string, Action>()
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [where, action = 'kill'] = part.split('=')
    if (!where) continue
    if (action.startsWith('sleep:')) map.set(where, { kind: 'sleep', ms: Number(action.slice(6)) })
    else map.set(where, { kind: 'kill' })
  }
  return map
}

/** True when any failpoint is configured (lets hot loops skip the lookup). */
export const failpointsActive = points.size > 0

/** The batch being written, for failpoints deep in a component that does not know it. */
let currentBatch = -1

/** Sets the batch id that `failpointSync` reports. */
export function setFailpointBatch(batchId: number): void {
  currentBatch = batchId
}

/** Synchronous failpoint (kill only) for code that cannot await, such as a COPY data generator. */
export function failpointSync(name: string): void {
  if (!failpointsActive) return
  const action = points.get(`${name}@${currentBatch}`) ?? points.get(name)
  if (action?.kind !== 'kill') return
  process.stderr.write(`failpoint ${name}@${currentBatch}: SIGKILL\n`)
  process.kill(process.pid, 'SIGKILL')
}

/** Triggers the failpoint `name` for batch `batchId` when configured. */
export async function failpoint(name: string, batchId: number): Promise<void> {
  if (!failpointsActive) return
  const action = points.get(`${name}@${batchId}`) ?? points.get(name)
  if (!action) return
  if (action.kind === 'kill') {
    process.stderr.write(`failpoint ${name}@${batchId}: SIGKILL\n`)
    process.kill(process.pid, 'SIGKILL')
    await new Promise(() => {}) // never resumes: the process is gone
  } else {
    process.stderr.write(`failpoint ${name}@${batchId}: sleeping ${action.ms} ms\n`)
    await new Promise((resolve) => setTimeout(resolve, action.ms))
  }
}
