// The store conformance suite on the engine's in-memory store and writers (testkit.ts), so the
// fakes the engine's tests rely on keep the contracts the real stores keep.
import { storeConformanceSuite } from '../../test/conformance/sink-suite.ts'
import { DeadLetterTables } from '../reliability/dlq.ts'
import { MemorySink, type MemoryTx } from './testkit.ts'

storeConformanceSuite<MemoryTx>({
  name: 'memory',
  async setup(options) {
    const sink = new MemorySink({ writeMode: options.writeMode, keys: ['id'] })
    const shaper = new DeadLetterTables({ pipelineId: 'conformance', dlq: { kind: 'table', table: 'events_dlq' }, late: { kind: 'table', table: 'events_late' } })
    const letters = (kind: 'dlq' | 'late') =>
      (sink.side[`events_${kind}`] ?? []).map((r) => ({ kind, offset: String(r['sluice.source.offset']), code: String(r['sluice.error.code']) })).sort((a, b) => Number(a.offset) - Number(b.offset))
    return {
      parts: sink.parts(sink.deadLetters(shaper)),
      rows: async () => sink.rows.map((r) => ({ id: Number(r.id), name: (r.name as string | undefined) ?? null, amount: r.amount === undefined || r.amount === null ? null : Number(r.amount) })).sort((a, b) => a.id - b.id),
      letters: async () => [...letters('dlq'), ...letters('late')],
      refused: (id) => ({ id, reject: true }),
      teardown: async () => {},
    }
  },
})
