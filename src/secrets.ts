/**
 * The one scrubber for credentials inside URLs (`scheme://user:password@host`), shared by config
 * output, log lines and error messages. A password stops at `@`, `/`, whitespace or a quote, so
 * scrubbing a JSON log line keeps it valid JSON.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '***'

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s"]*:)([^@/\s"]*)@/gi

/** Replaces the password of every `scheme://user:password@host` URL inside `text` with ***. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, head: string, pass: string) => (pass.length === 0 ? `${head}@` : `${head}${REDACTED}@`))
}
