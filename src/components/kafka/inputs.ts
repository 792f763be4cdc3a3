/**
 * What the connections of a pipeline are built from: the Kafka source's `kafka.*` options, and the
 * cluster dead letters and late records are published to. A Kafka DLQ on the source's brokers
 * uses the source's security (its kafka.* options and credentialId); a DLQ on another cluster uses
 * the kafka.* options and credentialId of `dlqConfig`. A late-data topic next to a PostgreSQL DLQ
 * goes to the Kafka source's cluster.
 */
import type { PipelineConfig } from '../../config/types.ts'
import type { KafkaExtractConfig } from '../sources/kafka/config.ts'
import { SluiceError } from '../../errors.ts'
import { kafkaConnection, type KafkaConnection, type KafkaConnectionInput } from './connection.ts'
import { resolveKafkaLogin } from './login.ts'
import { bootstrapList } from './options.ts'

type Env = Readonly<Record<string, string | undefined>>

/** The same broker list, whatever the order, spacing or case of host names. */
export function sameBrokers(a: string, b: string): boolean {
  const norm = (s: string) => [...new Set(bootstrapList(s).map((x) => x.toLowerCase()))].sort().join(',')
  return norm(a) === norm(b)
}

/** The `kafka.*` string options of an object (connectionParams, dlqConfig). */
export function kafkaOptionsOf(o: object): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(o)) if (k.startsWith('kafka.') && typeof v === 'string') out[k] = v
  return out
}

/** The Kafka source's connection input (its login, from credentialId, is added by the caller). */
export function sourceConnectionInput(source: KafkaExtractConfig, baseDir: string): KafkaConnectionInput {
  return {
    options: kafkaOptionsOf(source.connectionParams),
    bootstrap: { servers: source.connectionParams['kafka.bootstrap.servers'], path: ['extract', 'connectionParams', 'kafka.bootstrap.servers'] },
    path: ['extract', 'connectionParams'],
    baseDir,
  }
}

/** What the DLQ connection is built from (before the credential is resolved), with the JSON paths to name in errors. */
export function dlqConnectionInput(config: PipelineConfig, baseDir: string): { input: KafkaConnectionInput; credentialId: string | undefined } {
  const dlq = config.errorHandlingConfig.dlqConfig
  const source = config.extract.sourceType === 'kafka' ? config.extract : undefined
  const sourceInput = (): { input: KafkaConnectionInput; credentialId: string | undefined } | undefined => {
    if (!source) return undefined
    return { input: sourceConnectionInput(source, baseDir), credentialId: source.credentialId }
  }
  if (dlq?.dlqType === 'kafka') {
    const own = kafkaOptionsOf(dlq)
    const fromSource = sourceInput()
    // Own security options win: a DLQ on the same brokers may still log in as another user.
    if (fromSource && Object.keys(own).length === 0 && dlq.credentialId === undefined && sameBrokers(dlq.bootstrapServers, source?.connectionParams['kafka.bootstrap.servers'] ?? '')) {
      return fromSource
    }
    return {
      input: {
        options: own,
        bootstrap: { servers: dlq.bootstrapServers, path: ['errorHandlingConfig', 'dlqConfig', 'bootstrapServers'] },
        path: ['errorHandlingConfig', 'dlqConfig'],
        baseDir,
      },
      credentialId: dlq.credentialId,
    }
  }
  const fromSource = sourceInput()
  if (fromSource) return fromSource
  throw new SluiceError('CONFIG_INVALID', 'late records go to a Kafka topic, but there is no Kafka to publish to: use dlqConfig with dlqType kafka, a Kafka source, or lateDataConfig.separateTable', {
    details: { path: 'streamingConfigJson.lateDataConfig' },
  })
}

/** The DLQ cluster's connection, with its SASL login resolved; `sourceSettings` when it is the source's connection. */
export async function dlqConnection(config: PipelineConfig, baseDir: string, env: Env): Promise<{ connection: KafkaConnection; sourceSettings: boolean }> {
  const { input, credentialId } = dlqConnectionInput(config, baseDir)
  const login = credentialId === undefined ? undefined : await resolveKafkaLogin(credentialId, env)
  return { connection: kafkaConnection({ ...input, ...(login === undefined ? {} : { login }) }), sourceSettings: input.path[0] === 'extract' }
}
