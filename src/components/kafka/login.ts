/** SASL login of a Kafka client from a credentialId (environment or credentials file). */
import { resolveCredential } from '../../config/credentials.ts'
import { SluiceError } from '../../errors.ts'
import type { KafkaLogin } from './connection.ts'

/** The credential's user (or username) and password; the password is the token for OAUTHBEARER. */
export async function resolveKafkaLogin(credentialId: string, env: Readonly<Record<string, string | undefined>>): Promise<KafkaLogin> {
  const cred = await resolveCredential(credentialId, env)
  const username = cred.user ?? cred['username']
  const password = cred.password
  if (password === undefined) throw new SluiceError('CREDENTIAL_MISSING', `credential ${credentialId} has no password (or token) for Kafka SASL`)
  return { username: username ?? '', password }
}
