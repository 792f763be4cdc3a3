/**
 * The checks of the Kafka connections that need more than the schema (files on disk, a login that
 * must come from somewhere), run by `validate` and `run` alike when a file is loaded, so that
 * validate refuses what run would refuse.
 */
import type { ConfigIssue, PipelineConfig } from '../../config/types.ts'
import { isSluiceError } from '../../errors.ts'
import { buildKafkaConnection } from './connection.ts'
import { dlqConnectionInput, sourceConnectionInput } from './inputs.ts'

/** Problems of the source's and the Kafka DLQ's connection settings (paths relative to `baseDir`). */
export function kafkaConnectionIssues(config: PipelineConfig, baseDir: string): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
  const add = (found: ConfigIssue[]) => {
    for (const i of found) {
      const key = `${i.path}\u0000${i.message}`
      if (!seen.has(key)) issues.push(i)
      seen.add(key)
    }
  }
  const e = config.extract
  if (e.sourceType === 'kafka') {
    const r = buildKafkaConnection({ ...sourceConnectionInput(e, baseDir), loginLater: e.credentialId !== undefined })
    if (!r.ok) add(r.issues)
  }
  if (config.errorHandlingConfig.dlqConfig?.dlqType === 'kafka') {
    try {
      const { input, credentialId } = dlqConnectionInput(config, baseDir)
      const r = buildKafkaConnection({ ...input, loginLater: credentialId !== undefined })
      if (!r.ok) add(r.issues)
    } catch (err) {
      if (!isSluiceError(err, 'CONFIG_INVALID')) throw err
    }
  }
  return issues
}
