/**
 * Which Host headers the HTTP endpoint answers. A page on an attacker's domain can point that
 * domain's DNS at 127.0.0.1 (DNS rebinding) and then read the endpoint from the user's browser, but
 * the browser still sends the attacker's name as Host. So only the bound address, localhost names,
 * the machine's own addresses when bound to all of them, and names configured by the operator
 * (monitoring.httpAllowedHosts, --http-allowed-host) are answered; `*` turns the check off.
 */
import { networkInterfaces } from 'node:os'

/** The host part of a Host header (`name`, `name:port`, `[v6]:port`), lower case, no trailing dot; null when malformed. */
export function hostOf(header: string): string | null {
  const h = header.trim().toLowerCase()
  let host: string
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    if (end === -1) return null
    const rest = h.slice(end + 1)
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null
    host = h.slice(1, end)
  } else {
    const colon = h.lastIndexOf(':')
    if (colon !== -1 && h.indexOf(':') !== colon) return null
    if (colon !== -1 && !/^\d{1,5}$/.test(h.slice(colon + 1))) return null
    host = colon === -1 ? h : h.slice(0, colon)
  }
  host = host.replace(/\.$/, '')
  return host === '' ? null : host
}

const WILDCARD = new Set(['0.0.0.0', '::', ''])

/** A predicate answering whether a request with this Host header may be served. */
export function hostAllowed(boundHost: string, configured: readonly string[] = []): (header: string | undefined) => boolean {
  const names = new Set(['localhost', '127.0.0.1', '::1'])
  const bound = boundHost.trim().toLowerCase().replace(/^\[|\]$/g, '')
  if (WILDCARD.has(bound)) {
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(a.address.toLowerCase().replace(/%.*$/, ''))
  } else {
    names.add(bound)
  }
  for (const c of configured) names.add(c.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, ''))
  const any = names.has('*')
  return (header) => {
    if (any) return true
    // HTTP/1.0 without Host: no browser sends such a request, so no page can be behind it.
    if (header === undefined) return true
    const host = hostOf(header)
    if (host === null) return false
    return names.has(host) || host.endsWith('.localhost') || (host.startsWith('127.') && /^127(\.\d{1,3}){3}$/.test(host))
  }
}
