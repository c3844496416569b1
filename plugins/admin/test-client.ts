// Test helpers for the console's API tests (not shipped: tsconfig.build.json excludes it): a logged-in client over real
// HTTP, and the list of every admin route.
import { expect } from 'vitest'
import { KEYS, TOKEN, type Running } from '../../test/e2e/harness.ts'

export { databaseEnv } from '../../test/e2e/harness.ts'

/** A browser's session as a script holds it: the cookie and the CSRF token the JSON login answered. */
export interface ConsoleClient {
  cookie: string
  csrf: string
  expiresAt: number
  /** A call with the cookie and (for anything but GET) the CSRF token; `headers` adds or overrides. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  json<T = any>(method: string, path: string, body?: unknown): Promise<T>
}

export async function login(gw: Running, token = TOKEN): Promise<ConsoleClient> {
  const response = await fetch(`${gw.url}/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth_token: token }),
  })
  expect(response.status).toBe(200)
  const { csrfToken, expiresAt } = (await response.json()) as { csrfToken: string; expiresAt: number }
  const cookie = sessionCookieOf(response)!
  return clientFor(gw, cookie, csrfToken, expiresAt)
}

export function clientFor(gw: Running, cookie: string, csrf: string, expiresAt = 0): ConsoleClient {
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(gw.url + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie,
        ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  return {
    cookie,
    csrf,
    expiresAt,
    call,
    async json(method, path, body) {
      const response = await call(method, path, body)
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`)
      return text ? JSON.parse(text) : undefined
    },
  }
}

/** `gemgate_session=<id>` from a response's Set-Cookie, for the Cookie header; undefined when none is set. */
export function sessionCookieOf(response: Response): string | undefined {
  const line = response.headers.getSetCookie().find((cookie) => cookie.startsWith('gemgate_session='))
  return line?.split(';')[0]
}

/** A well-formed Gemini API key (AIza + 35) that only this test uses; it ends with the tag, so its label shows it. */
export function fakeKey(tag: string): string {
  return `AIza${`-${tag}`.padStart(35, 'x').slice(-35)}`
}

/** The configured secrets in full: no refusal or answer that is not a reveal may hold one. */
export function expectNoSecret(text: string, extra: readonly string[] = []): void {
  for (const secret of [...KEYS, TOKEN, ...extra]) expect(text).not.toContain(secret)
}

/** Every route of the admin API, with a body that would pass validation (for the guard tests). */
/** A key named in a path (gemini-balance's routes): never a configured one, since a request's path is recorded as sent. */
const PATH_KEY = fakeKey('path')

export const ADMIN_ROUTES: ReadonlyArray<{ method: 'GET' | 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown }> = [
  { method: 'GET', path: '/api/session' },
  { method: 'GET', path: '/api/keys' },
  { method: 'GET', path: '/api/keys?status=valid' },
  { method: 'GET', path: '/api/keys/all' },
  { method: 'GET', path: '/api/keys/some-id' },
  { method: 'POST', path: '/api/keys', body: { text: fakeKey('guard') } },
  { method: 'POST', path: '/api/keys/delete', body: { ids: ['x'] } },
  { method: 'POST', path: '/api/keys/reset', body: { all: true } },
  { method: 'POST', path: '/api/keys/enable', body: { all: true } },
  { method: 'POST', path: '/api/keys/disable', body: { ids: ['x'] } },
  { method: 'POST', path: '/api/keys/verify', body: { ids: ['x'] } },
  { method: 'POST', path: '/api/keys/reveal', body: { ids: ['x'] } },
  { method: 'POST', path: `/gemini/v1beta/verify-key/${PATH_KEY}` },
  { method: 'POST', path: '/gemini/v1beta/verify-selected-keys', body: { keys: [KEYS[0]] } },
  { method: 'POST', path: `/gemini/v1beta/reset-fail-count/${PATH_KEY}` },
  { method: 'POST', path: '/gemini/v1beta/reset-all-fail-counts' },
  { method: 'POST', path: '/gemini/v1beta/reset-selected-fail-counts', body: { keys: [KEYS[0]] } },
  { method: 'DELETE', path: `/api/config/keys/${PATH_KEY}` },
  { method: 'POST', path: '/api/config/keys/delete-selected', body: { keys: [KEYS[0]] } },
  { method: 'GET', path: '/api/config' },
  { method: 'PUT', path: '/api/config', body: { MAX_RETRIES: 3 } },
  { method: 'POST', path: '/api/scheduler/start' },
  { method: 'POST', path: '/api/scheduler/stop' },
  { method: 'GET', path: '/api/tokens' },
  { method: 'POST', path: '/api/tokens', body: { name: 'guard' } },
  { method: 'POST', path: '/api/tokens/delete', body: { ids: ['x'] } },
  { method: 'POST', path: '/api/tokens/x/enable' },
  { method: 'POST', path: '/api/tokens/x/disable' },
  { method: 'PUT', path: '/api/tokens/x/limits', body: { limits: { rpm: 1 } } },
  { method: 'POST', path: '/api/admin-token/rotate' },
  { method: 'GET', path: '/api/settings' },
  { method: 'POST', path: '/api/settings/validate', body: { changes: {} } },
  { method: 'PUT', path: '/api/settings', body: { changes: {} } },
  { method: 'POST', path: '/api/settings/import/preview', body: { env: '' } },
  { method: 'POST', path: '/api/settings/import', body: { env: '' } },
  { method: 'GET', path: '/api/stats/overview' },
  { method: 'GET', path: '/api/stats/series?range=1h' },
  { method: 'GET', path: '/api/stats/usage?by=model' },
  { method: 'GET', path: '/api/stats/details?period=1h' },
  { method: 'GET', path: '/api/stats/attention-keys' },
  { method: 'GET', path: '/api/events' },
  { method: 'GET', path: '/api/logs/requests' },
  { method: 'GET', path: '/api/logs/errors' },
  { method: 'GET', path: '/api/logs/errors?offset=0' },
  { method: 'GET', path: '/api/logs/requests/1' },
  { method: 'GET', path: '/api/logs/errors/1' },
  { method: 'GET', path: '/api/logs/errors/1/details' },
  { method: 'DELETE', path: '/api/logs/requests', body: { all: true } },
  { method: 'DELETE', path: '/api/logs/errors', body: { ids: [1] } },
  { method: 'DELETE', path: '/api/logs/errors/all' },
  { method: 'DELETE', path: '/api/logs/errors/1' },
  { method: 'GET', path: '/api/jobs' },
  { method: 'POST', path: '/api/jobs/session-sweep/run' },
  { method: 'POST', path: '/api/jobs/session-sweep/pause' },
  { method: 'POST', path: '/api/jobs/session-sweep/resume' },
  { method: 'GET', path: '/api/proxies' },
  { method: 'POST', path: '/api/proxies/check', body: {} },
  { method: 'GET', path: '/api/no-such-route' },
  { method: 'POST', path: '/api/no/such/route' },
]
