// What the console reads off a request before trusting it: who sent it (the socket's address), over what (HTTPS or
// not, for the cookie's Secure flag), from which page (Origin), and its cookie.
import { getCookie, getRequestIP, type H3Event } from 'h3'

export const SESSION_COOKIE = 'gemgate_session'

/**
 * The client's address: the socket's peer, unless the operator said a proxy in front sets X-Forwarded-For (then the
 * last entry, the one that proxy added; the ones before it are whatever the client wrote).
 */
export function clientAddress(event: H3Event, trustForwardedFor: boolean): string {
  if (trustForwardedFor) {
    const last = event.req.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (last) return last
  }
  return getRequestIP(event) ?? 'unknown'
}

/** Whether the browser reached us over HTTPS, directly or through a proxy that terminated it. */
export function isHttps(event: H3Event): boolean {
  return event.url.protocol === 'https:' || event.req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https'
}

/**
 * False only when the browser named a page of another origin. The host is compared (a proxy terminating TLS makes
 * the scheme differ), against Host or the proxy's X-Forwarded-Host: a page elsewhere can set neither on a request
 * that carries the cookie.
 */
export function isSameOrigin(event: H3Event): boolean {
  const origin = event.req.headers.get('origin')
  if (origin === null) return true
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    return false // 'null' (a sandboxed page, a redirect across origins) or garbage
  }
  const forwarded = event.req.headers.get('x-forwarded-host')?.split(',')[0]?.trim()
  return host === event.url.host || host === forwarded
}

export function sessionIdOf(event: H3Event): string | undefined {
  return getCookie(event, SESSION_COOKIE) || undefined
}

/** The session cookie: unreadable by scripts, never sent by another site's page, over HTTPS only when we are on it. */
export function sessionCookie(event: H3Event, id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${isHttps(event) ? '; Secure' : ''}`
}

export function clearedSessionCookie(event: H3Event): string {
  return sessionCookie(event, '', 0)
}

export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
