/** Zod schema of `monitoring`: HTTP endpoint, log level, tracker cleanup, shutdown timeout. */
import * as z from 'zod'
import { lenientEnum, lenientInt, lenientNumber, strictObject, text } from './lenient.ts'

export const monitoringConfigSchema = strictObject(
  {
    httpPort: lenientInt({ min: 0, max: 65535 }, 'Port of the health/metrics HTTP endpoint; off when unset, 0 picks a free port.').optional(),
    httpHost: text('Address the HTTP endpoint binds to (default 127.0.0.1).').default('127.0.0.1'),
    httpAllowedHosts: z
      .array(
        text('A host name').regex(/^(\*|\[?[A-Za-z0-9.:-]+\]?)$/, { error: 'must be a host name or address, without port (or "*")' }),
        { error: 'must be a list of host names' },
      )
      .describe(
        'Host names the HTTP endpoint also answers (the Host header of a request), besides the bound address and localhost; e.g. the name Prometheus scrapes. "*" answers any name (turns off the DNS-rebinding protection).',
      )
      .optional(),
    logLevel: lenientEnum(['trace', 'debug', 'info', 'warn', 'error'], 'Log level (default info, or SLUICE_LOG_LEVEL).').optional(),
    cleanupIntervalHours: lenientNumber({ min: 0, exclusiveMin: true }, 'Run batch_tracker retention cleanup every N hours while running.').optional(),
    shutdownTimeoutSeconds: lenientNumber({ min: 0, exclusiveMin: true }, 'Grace period for the running batch on SIGTERM (default 30).').default(30),
  },
  'Monitoring and operations settings.',
)
