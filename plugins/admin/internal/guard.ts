// Who may use the console: a session cookie (browsers) or the admin token as a Bearer (scripts). Wrong tokens count
// against the sender's address whichever way they came; calls that change something with a cookie must prove they
// come from the console's own page (CSRF token, same origin).
import { createHash, timingSafeEqual } from 'node:crypto'
import { bearerToken } from 'gemgate'
import type { H3Event } from 'h3'
import type { AdminTokenControl } from './types.ts'
import { AdminError } from './http.ts'
import { clientAddress, isSameOrigin, sessionIdOf, STATE_CHANGING } from './request.ts'
import type { Session, SessionStore } from './sessions.ts'
import type { LoginThrottle } from './throttle.ts'

export type AdminAuth = { kind: 'session'; id: string; session: Session } | { kind: 'bearer' }

export interface Guard {
  /**
   * The caller's credentials, or undefined without any (or with a session that is over). A Bearer token that is not
   * the admin token is refused (401), and while its sender is throttled every token is (429).
   */
  authenticate(event: H3Event): Promise<AdminAuth | undefined>
  /** Checks a presented admin token (login): 429 while throttled, 401 when wrong. */
  checkToken(event: H3Event, token: string): void
  /** 403 unless a cookie session's state-changing call carries its CSRF token (`presented`) from a same-origin page. */
  checkCsrf(event: H3Event, auth: AdminAuth, presented: string | null | undefined): void
}

export interface GuardOptions {
  adminToken: AdminTokenControl
  sessions: SessionStore
  throttle: LoginThrottle
  trustForwardedFor: boolean
}

export function createGuard({ adminToken, sessions, throttle, trustForwardedFor }: GuardOptions): Guard {
  const checkToken = (event: H3Event, token: string) => {
    const address = clientAddress(event, trustForwardedFor)
    const wait = throttle.retryAfter(address)
    if (wait !== undefined)
      throw new AdminError(429, `Too many wrong admin tokens from this address: try again in ${wait} s.`, undefined, { 'retry-after': String(wait) })
    if (!adminToken.verify(token)) {
      throttle.failed(address)
      throw new AdminError(401, 'Wrong admin token.')
    }
    throttle.succeeded(address)
  }

  return {
    async authenticate(event) {
      const bearer = bearerOf(event)
      if (bearer !== undefined) {
        checkToken(event, bearer)
        return { kind: 'bearer' }
      }
      const id = sessionIdOf(event)
      const session = id === undefined ? undefined : await sessions.get(id)
      return session && { kind: 'session', id: id!, session }
    },
    checkToken,
    checkCsrf(event, auth, presented) {
      if (auth.kind !== 'session' || !STATE_CHANGING.has(event.req.method)) return
      if (!isSameOrigin(event)) throw new AdminError(403, 'Refused: the request came from another site.')
      if (!presented || !sameSecret(presented, auth.session.csrfToken)) throw new AdminError(403, 'Refused: missing or wrong CSRF token; reload the page.')
    },
  }
}

/** `Authorization: Bearer <token>`; other schemes are not ours to read. */
const bearerOf = (event: H3Event): string | undefined => bearerToken(event.req.headers.get('authorization'))

/** Constant-time, whatever the lengths. */
function sameSecret(a: string, b: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(a), digest(b))
}
