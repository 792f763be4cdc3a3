/**
 * read_committed fetches without the client library's own filtering of aborted transactions.
 *
 * @platformatic/kafka (2.12.1) filters every read_committed Fetch response before handing it over:
 * per producer id it drops the batches from the first offset the broker lists for an aborted
 * transaction up to the *last* abort marker of that producer in the response. A transactional
 * producer keeps its producer id across transactions and restarts (only the epoch moves), so
 * when an aborted transaction is followed by committed ones and then by another abort marker of
 * the same producer (a transaction aborted before any of its records reached that partition: a
 * relay or producer that died or was fenced after AddPartitionsToTxn), the committed records in
 * between vanish, and the read moves past them as if they had been read. That lost committed
 * records from the source (read_committed is its default) and from the DLQ topic reads (the
 * outbox relay's recovery read, `sluice dlq`, the tests' checkers).
 *
 * The records of a response are decoded before that filter runs and cannot be had afterwards, so
 * a partition whose read_committed response lists aborted transactions is fetched once more, from
 * the same offset, read_uncommitted (which the library leaves alone): its batches up to where the
 * read_committed response reached (never past the last stable offset) replace the filtered ones,
 * and the caller drops the aborted transactions itself with the list the broker gave
 * (records.ts, the Java consumer's rule). Responses without aborted transactions, the usual case,
 * cost nothing more.
 */
import type { RecordsBatch, fetchV17 } from '@platformatic/kafka'
import { batchEnd } from './records.ts'

type Response = fetchV17.FetchResponse
type PartitionResponse = Response['responses'][number]['partitions'][number]

/** What one partition of a fetch asks for (the fields this module keys on). */
export interface FetchedPartition {
  readonly topicId: string
  readonly partition: number
}

const keyOf = (topicId: string, partition: number): string => `${topicId}:${partition}`

/**
 * `response` (read_committed) with the batches the library filtered out put back: for each
 * partition listing aborted transactions, `refetch` (read_uncommitted, same offsets and limits)
 * gives the unfiltered batches, kept up to the offset the read_committed response reached. A
 * partition the re-fetch does not return gets no batches (no progress this round, nothing
 * skipped).
 */
export async function restoreCommittedBatches<P extends FetchedPartition>(
  response: Response,
  parts: readonly P[],
  refetch: (parts: P[]) => Promise<Response>,
): Promise<Response> {
  const asked = new Map(parts.map((p) => [keyOf(p.topicId, p.partition), p]))
  const affected: { key: string; fetched: PartitionResponse; part: P }[] = []
  for (const topic of response.responses) {
    for (const fetched of topic.partitions) {
      if ((fetched.abortedTransactions?.length ?? 0) === 0 || (fetched.records?.length ?? 0) === 0) continue
      const key = keyOf(topic.topicId, fetched.partitionIndex)
      const part = asked.get(key)
      if (part !== undefined) affected.push({ key, fetched, part })
    }
  }
  if (affected.length === 0) return response
  const again = await refetch(affected.map((a) => a.part))
  const raw = new Map<string, RecordsBatch[]>()
  for (const topic of again.responses) {
    for (const p of topic.partitions) raw.set(keyOf(topic.topicId, p.partitionIndex), p.records ?? [])
  }
  for (const { key, fetched } of affected) {
    // The filter never drops a response's last batch (an abort marker ends each range it drops),
    // so the remaining batches still show how far the read_committed read reached.
    let reached = 0n
    for (const b of fetched.records ?? []) {
      const end = batchEnd(b)
      if (end > reached) reached = end
    }
    fetched.records = (raw.get(key) ?? []).filter((b) => batchEnd(b) <= reached)
  }
  return response
}
