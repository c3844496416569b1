import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Running } from '../../test/e2e/harness.ts'
import admin from './index.ts'
import { ADMIN_ROUTES, expectNoSecret, login, type ConsoleClient } from './test-client.ts'

const changing = ADMIN_ROUTES.filter((route) => route.method !== 'GET' && route.path !== '/api/admin-token/rotate')

/** Every admin route refuses callers without the session, and cookie callers without the CSRF proof, leaking nothing. */
describe('every admin route is behind the session and CSRF checks', () => {
  let gw: Running
  let client: ConsoleClient
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [admin()] } })
    client = await login(gw)
  })
  afterAll(() => gw.close())

  const send = (route: (typeof ADMIN_ROUTES)[number], headers: Record<string, string>) =>
    fetch(gw.url + route.path, {
      method: route.method,
      redirect: 'manual',
      headers: { ...(route.body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: route.body === undefined ? undefined : JSON.stringify(route.body),
    })

  it.each(ADMIN_ROUTES)('$method $path: 401 without a session, a client token or a wrong cookie, and nothing leaked', async (route) => {
    for (const headers of <Record<string, string>[]>[
      {},
      { 'x-goog-api-key': 'sk-gemgate-test' },
      { cookie: 'gemgate_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    ]) {
      const response = await send(route, headers)
      expect(response.status, JSON.stringify(headers)).toBe(401)
      expect(response.headers.getSetCookie()).toEqual([])
      const text = await response.text()
      expect(JSON.parse(text)).toEqual({ error: { message: 'Log in to the console first (or send the admin token as a Bearer).' } })
      expectNoSecret(text)
    }
  })

  it.each(changing)('$method $path: 403 with the cookie but without the CSRF token, with a wrong one, or from another origin', async (route) => {
    for (const headers of <Record<string, string>[]>[
      { cookie: client.cookie },
      { cookie: client.cookie, 'x-csrf-token': 'forged' },
      { cookie: client.cookie, 'x-csrf-token': client.csrf, origin: 'https://evil.example' },
      { cookie: client.cookie, 'x-csrf-token': client.csrf, origin: 'null' },
    ]) {
      const response = await send(route, headers)
      expect(response.status, JSON.stringify(headers)).toBe(403)
      const text = await response.text()
      expect(JSON.parse(text).error.message).toMatch(/^Refused: /)
      expectNoSecret(text)
    }
  })

  it('answers the same calls with the session (GETs need no CSRF token; same-origin Origin is fine)', async () => {
    for (const route of ADMIN_ROUTES.filter((each) => each.method === 'GET')) {
      const response = await client.call('GET', route.path)
      expect([200, 404], route.path).toContain(response.status)
      expectNoSecret(await response.text())
    }
    const own = await client.call('POST', '/api/keys/reset', { all: true }, { origin: gw.url })
    expect(own.status).toBe(200)
  })

  it('marks every answer private: no cache, no sniffing, no framing', async () => {
    const response = await client.call('GET', '/api/keys')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('x-frame-options')).toBe('DENY')
  })
})
