/**
 * Replaying a Kafka DLQ topic: read back read_committed (only committed dead letters, the Kafka
 * source pointed at the DLQ with the DLQ's connection: dlq-topic.ts), from the replay position
 * stored in the sink database (dlq-replay-marks.ts) to the topic's end as it was at start.
 *
 * Each transaction takes the next `batchSize` records read, locks the DLQ (advisory), reads their
 * marks, replays the selected ones not yet landed, writes the rows, their marks and the advanced
 * positions, and commits: a crash before COMMIT leaves rows, marks and positions as they were.
 *
 * A dead letter that still fails stays where it is on the topic (a topic cannot be changed) and
 * its mark carries the new error; it holds its partition's position, so the next replay reads it
 * again, and the dead letters after it that landed are passed by their marks. Nothing is written
 * to the DLQ topic again: a second copy would be a second dead letter of one source record.
 * Dead letters still in the outbox (not yet published by a run) are not on the topic yet.
 */
import type { SourceRecord } from '../api/record.ts'
import type { DeadLetterEntry } from './dlq-entry.ts'
import { type MarksScope, advancePositions, ensureMarkTables, readMarks, readPositions, writeMarks } from './dlq-replay-marks.ts'
import type { ReplayVerdict } from './dlq-replay-path.ts'
import type { ReplayBackend, ReplayContext } from './dlq-replay.ts'
import { openDlqTopic, topicRecordEntry } from './dlq-topic.ts'

/** A record read from the DLQ, with its entry when it is one of the pipeline's dead letters. */
interface Item {
  readonly record: SourceRecord
  readonly entry: DeadLetterEntry | null
}

/** Where each partition's replay stands in this run: the next offset, and whether a dead letter left behind holds it. */
class Cursors {
  readonly next = new Map<string, bigint>()
  readonly held = new Set<string>()

  /**
   * The new positions of the partitions `items` move (each partition's records in offset order):
   * past every record up to the first dead letter of the pipeline not done, which holds it.
   */
  advance(items: readonly Item[], done: ReadonlySet<string>): Map<string, bigint> {
    const moved = new Map<string, bigint>()
    const held = new Set(this.held)
    for (const { record, entry } of items) {
      const key = record.partition
      if (held.has(key)) continue
      if (entry === null || done.has(entry.id)) moved.set(key, BigInt(record.offset) + 1n)
      else held.add(key)
    }
    return moved
  }

  /** Takes the positions of a committed transaction, and which partitions a dead letter now holds. */
  apply(moved: ReadonlyMap<string, bigint>, items: readonly Item[], done: ReadonlySet<string>): void {
    for (const [k, v] of moved) this.next.set(k, v)
    for (const { record, entry } of items) if (entry !== null && !done.has(entry.id)) this.held.add(record.partition)
  }
}

/** "orders-dlq/3" -> 3. */
function partitionOf(key: string): number {
  return Number(key.slice(key.lastIndexOf('/') + 1))
}

function byPartition(positions: ReadonlyMap<string, bigint>): Map<number, bigint> {
  return new Map([...positions].map(([k, v]) => [partitionOf(k), v]))
}

/** Replays the pipeline's dead letters from the Kafka topic `topic`. */
export function replayFromTopic(topic: string): ReplayBackend {
  return async (ctx) => {
    const { driver, schema } = ctx.store.database()
    const scope: MarksScope = { schema, pipelineId: ctx.config.pipelineId, topic }
    const where = `kafka topic ${topic}`
    if (!ctx.options.dryRun) await ensureMarkTables(driver, schema)
    const stored = await readPositions(driver, scope)
    const reader = await openDlqTopic(ctx.config, ctx.baseDir, topic, ctx.options.env)
    try {
      const cursors = new Cursors()
      const from: Record<string, string> = {}
      for (const [key, last] of Object.entries(reader.end)) {
        const earliest = BigInt(reader.start[key] ?? '0')
        const begin = [earliest, stored.get(partitionOf(key)) ?? 0n].reduce((a, b) => (b > a ? b : a))
        const clamped = begin > BigInt(last) ? BigInt(last) : begin
        from[key] = clamped.toString()
        cursors.next.set(key, clamped)
      }
      let n = 0
      const step = async (records: SourceRecord[]): Promise<void> => {
        const items = records.map((record): Item => {
          const e = topicRecordEntry(record)
          return { record, entry: e !== null && e.pipelineId === ctx.config.pipelineId ? e : null }
        })
        if (ctx.options.dryRun) await dryStep(ctx, scope, items)
        else {
          await replayStep(ctx, scope, items, cursors, n)
          n++
        }
      }
      let buffer: SourceRecord[] = []
      for await (const chunk of reader.read(from, reader.end)) {
        buffer.push(...chunk)
        while (buffer.length >= ctx.options.batchSize) await step(buffer.splice(0, ctx.options.batchSize))
      }
      if (buffer.length > 0) await step(buffer)
      buffer = []
      // Past the last record (transaction markers of read_committed): the partitions nothing holds move to the end read.
      const tail = new Map<string, bigint>()
      for (const [key, last] of Object.entries(reader.end)) if (!cursors.held.has(key) && (cursors.next.get(key) ?? 0n) < BigInt(last)) tail.set(key, BigInt(last))
      if (!ctx.options.dryRun && tail.size > 0) {
        await ctx.store.transaction(`saving the replay position of ${topic}`, async (tx) => {
          await ctx.lock(tx.session)
          await advancePositions(tx.session, scope, byPartition(tail), new Date().toISOString())
        })
      }
      return { where, transactions: n }
    } finally {
      await reader.close()
    }
  }
}

/** One transaction: lock, marks, rows, new marks, positions, COMMIT. */
async function replayStep(ctx: ReplayContext, scope: MarksScope, items: readonly Item[], cursors: Cursors, n: number): Promise<void> {
  const ours = items.filter((i): i is Item & { entry: DeadLetterEntry } => i.entry !== null)
  await ctx.store.transaction(`replaying dead letters from ${scope.topic}`, async (tx) => {
    await ctx.lock(tx.session)
    const marks = await readMarks(tx.session, scope, ours.map((i) => ({ partition: i.record.partitionNumber, offset: i.record.offset })))
    const done = new Set([...marks].filter(([, m]) => m.replayedAt !== null).map(([id]) => id))
    const todo = ours.filter((i) => !done.has(i.entry.id) && ctx.selected(i.entry))
    const plan = ctx.plan(todo.map((i) => i.entry))
    await ctx.write(tx, plan)
    await ctx.failpoint('replay-after-rows', n)
    const now = new Date().toISOString()
    await writeMarks(tx.session, scope, todo.map((i, k) => ({ partition: i.record.partitionNumber, offset: i.record.offset, verdict: plan.verdicts[k] as ReplayVerdict })), now)
    todo.forEach((i, k) => {
      if ((plan.verdicts[k] as ReplayVerdict).outcome !== 'failed') done.add(i.entry.id)
    })
    const moved = cursors.advance(items, done)
    await advancePositions(tx.session, scope, byPartition(moved), now)
    await ctx.failpoint('replay-before-commit', n)
    tx.onCommit(() => {
      cursors.apply(moved, items, done)
      ctx.report(plan)
    })
  })
  await ctx.failpoint('replay-after-commit', n)
}

/** The dry run of one chunk: what the selected, not yet landed ones would become. */
async function dryStep(ctx: ReplayContext, scope: MarksScope, items: readonly Item[]): Promise<void> {
  const ours = items.filter((i): i is Item & { entry: DeadLetterEntry } => i.entry !== null)
  const marks = await readMarks(ctx.store.database().driver, scope, ours.map((i) => ({ partition: i.record.partitionNumber, offset: i.record.offset })))
  const todo = ours.filter((i) => marks.get(i.entry.id)?.replayedAt == null && ctx.selected(i.entry))
  ctx.report(ctx.plan(todo.map((i) => i.entry)))
}
