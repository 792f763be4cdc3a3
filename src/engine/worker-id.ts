/**
 * This worker's name in /status, logs and the metrics' `worker` label: SLUICE_WORKER_ID when set
 * (a Kubernetes pod name through the downward API, a systemd instance name), else host:pid, which
 * tells apart N workers on one machine as well as on N machines.
 */
import { hostname } from 'node:os'

export function workerId(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SLUICE_WORKER_ID?.trim()
  return configured ? configured : `${hostname()}:${process.pid}`
}
