/**
 * Destination topics of the outbox relay exist before anything is read from or sent to them. A DLQ
 * or late-data topic is usually new on a pipeline's first run: the relay creates it (partitions and
 * replication factor from `dlqConfig`, else the broker's defaults) and waits until every partition
 * has a leader, so the first transaction neither fails on "Unknown topic" nor races a leader
 * election. A cluster that refuses CreateTopics (no ACL, a creation policy) is left to the broker's
 * auto-creation on produce; if that is off too, the send fails with the broker's own error.
 */
import { type Admin, findErrorBy } from '@platformatic/kafka'
import type { Logger } from '../../../api/component.ts'
import type { SluiceError } from '../../../errors.ts'
import { kafkaFailureSync } from '../failure.ts'

/** How new topics are created; undefined fields take the broker's defaults. */
export interface TopicCreation {
  readonly partitions?: number
  readonly replicationFactor?: number
}

/**
 * A client failure as the source's clients word it (SOURCE_UNAVAILABLE, or SOURCE_AUTH when
 * permanent); the relay turns it into its DLQ_* code with the same cause.
 */
function unavailable(err: unknown, action: string): SluiceError {
  return kafkaFailureSync(err, action, 'source')
}

/** How long a new topic may take to have a leader for every partition. */
const LEADER_WAIT_MS = 15_000

/**
 * Broker refusals after which auto-creation on produce is the remaining way. An invalid partition
 * count or replication factor is not one of them: the user asked for it, so it fails loudly.
 */
const REFUSED = ['TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'POLICY_VIOLATION']

/**
 * The missing ones of `topics` are created; resolves once every partition of every topic has a
 * leader. `admin` is the caller's (it carries the cluster's connection settings); it stays open.
 */
export async function ensureTopics(admin: Admin, topics: readonly string[], creation: TopicCreation, logger: Logger, signal: AbortSignal): Promise<void> {
  if (topics.length === 0) return
  let existing: Set<string>
  try {
    existing = new Set(await admin.listTopics())
  } catch (err) {
    throw unavailable(err, 'listing topics')
  }
  const missing = topics.filter((t) => !existing.has(t))
  let created: string[] = []
  if (missing.length > 0) created = await create(admin, missing, creation, logger)
  await waitForLeaders(admin, created, signal)
}

/** Creates `topics`; returns the ones that now exist (created here or by a concurrent creator). */
async function create(admin: Admin, topics: string[], creation: TopicCreation, logger: Logger): Promise<string[]> {
  try {
    await admin.createTopics({
      topics,
      ...(creation.partitions === undefined ? {} : { partitions: creation.partitions }),
      ...(creation.replicationFactor === undefined ? {} : { replicas: creation.replicationFactor }),
    })
    logger.info({ topics, partitions: creation.partitions ?? 'broker default', replicationFactor: creation.replicationFactor ?? 'broker default' }, 'created the dead-letter / late-data topics')
    return topics
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    if (findErrorBy(e, 'apiId', 'TOPIC_ALREADY_EXISTS') !== null) return topics
    const refused = REFUSED.find((id) => findErrorBy(e, 'apiId', id) !== null)
    if (refused === undefined) throw unavailable(err, `creating topics ${topics.join(', ')}`)
    // Creating is refused, producing may still auto-create (auto.create.topics.enable): try that.
    logger.warn({ topics, refused }, 'the broker refused to create the dead-letter / late-data topics; relying on its auto-creation when producing')
    return []
  }
}

/** Metadata says a leader for every partition of each topic (new topics elect them asynchronously). */
async function waitForLeaders(admin: Admin, topics: readonly string[], signal: AbortSignal): Promise<void> {
  if (topics.length === 0) return
  const deadline = Date.now() + LEADER_WAIT_MS
  let lastError: unknown = null
  for (;;) {
    signal.throwIfAborted()
    try {
      const md = await admin.metadata({ topics: [...topics], forceUpdate: true })
      const ready = topics.every((name) => {
        const t = md.topics.get(name)
        return t !== undefined && t.partitionsCount > 0 && t.partitions.length === t.partitionsCount && t.partitions.every((p) => p.leader >= 0)
      })
      if (ready) return
    } catch (err) {
      lastError = err // "Unknown topic" right after creation: metadata not propagated yet
    }
    if (Date.now() > deadline) {
      throw unavailable(lastError ?? new Error(`no leader for every partition after ${LEADER_WAIT_MS} ms`), `waiting for the new topics ${topics.join(', ')}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}
