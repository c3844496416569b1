import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { TOKEN, startGateway, type Running } from '../../test/e2e/harness.ts'
import admin from './index.ts'
import { clientFor, expectNoSecret, login, sessionCookieOf } from './test-client.ts'

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
})

describe('console login, sessions and pages', () => {
  let gw: Running
  beforeAll(async () => {
    // The shortest session the option allows; expiry is tested by moving the clock.
    gw = await startGateway({ config: { plugins: [admin({ sessionExpireSeconds: 300 })] } })
  })
  afterAll(() => gw.close())
  afterEach(() => void vi.useRealTimers())

  it('shows the login form at / without a session, and sends pages there', async () => {
    const page = await fetch(`${gw.url}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const text = await page.text()
    expect(text).toContain('<form class="login-form" method="post" action="/auth">')
    expect(text).toContain('name="auth_token"')
    expect(text).toMatch(/href="\/admin\/assets\/app\.css\?v=[0-9a-f]{16}"/)
    // A client token exists (ALLOWED_TOKENS): no hint about making one.
    expect(text).not.toContain('No client token exists yet')
    for (const path of ['/keys', '/dashboard', '/settings', '/logs', '/tokens', '/jobs', '/config']) {
      const response = await fetch(gw.url + path, { redirect: 'manual' })
      expect(response.status, path).toBe(303)
      expect(response.headers.get('location')).toBe('/')
    }
  })

  it('logs in with the form: 303 to /keys with an HttpOnly, SameSite=Strict cookie; the pages then serve the app', async () => {
    const response = await fetch(`${gw.url}/auth`, form({ auth_token: TOKEN }))
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/keys')
    const [line] = response.headers.getSetCookie()
    expect(line).toMatch(/^gemgate_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=300; HttpOnly; SameSite=Strict$/)
    const cookie = sessionCookieOf(response)!
    const shell = await fetch(`${gw.url}/settings`, { headers: { cookie } })
    expect(shell.status).toBe(200)
    const html = await shell.text()
    expect(html).toContain('<div id="app"></div>')
    const script = /src="(\/admin\/assets\/app\.js\?v=[0-9a-f]{16})"/.exec(html)![1]!
    const asset = await fetch(gw.url + script)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toContain('javascript')
    expect(asset.headers.get('cache-control')).toContain('immutable')
    expect((await fetch(`${gw.url}/admin/assets/app.js`)).headers.get('cache-control')).toBe('no-cache')
    expect((await fetch(`${gw.url}/admin/assets/secrets.txt`)).status).toBe(404)
    // With a session, / leads into the app.
    const home = await fetch(`${gw.url}/`, { headers: { cookie }, redirect: 'manual' })
    expect(home.status).toBe(303)
    expect(home.headers.get('location')).toBe('/keys')
  })

  it('sends a wrong token back to the form with an error, and sets no cookie', async () => {
    const response = await fetch(`${gw.url}/auth`, form({ auth_token: 'not-the-token' }))
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/?error=invalid')
    expect(response.headers.getSetCookie()).toEqual([])
    const page = await (await fetch(`${gw.url}/?error=invalid`)).text()
    expect(page).toContain('class="login-error"')
    expect(page).toContain('Wrong admin token.')
  })

  it('logs in with JSON: the CSRF token and expiry; a wrong token is 401; a missing one 400', async () => {
    const client = await login(gw)
    expect(client.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(client.expiresAt).toBeGreaterThan(Date.now() + 290_000)
    const session = await client.json('GET', '/api/session')
    expect(session).toEqual({ csrfToken: client.csrf, expiresAt: client.expiresAt, adminTokenSource: 'env', plugins: expect.arrayContaining(['admin']) })

    const wrong = await fetch(`${gw.url}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth_token: 'nope' }),
    })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toEqual({ error: { message: 'Wrong admin token.' } })
    const missing = await fetch(`${gw.url}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(missing.status).toBe(400)
    expect((await missing.json()).error.fields).toHaveProperty('auth_token')
  })

  it('refuses a login posted from another site (login CSRF)', async () => {
    const response = await fetch(`${gw.url}/auth`, form({ auth_token: TOKEN }, { origin: 'https://evil.example' }))
    expect(response.status).toBe(403)
    expect(response.headers.getSetCookie()).toEqual([])
    // The console's own page posting is fine.
    expect((await fetch(`${gw.url}/auth`, form({ auth_token: TOKEN }, { origin: gw.url }))).status).toBe(303)
  })

  it('refuses an oversized login body, also one sent without a length, before holding it all', async () => {
    const big = JSON.stringify({ auth_token: 'x'.repeat(100_000) })
    const sized = await fetch(`${gw.url}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
    expect(sized.status).toBe(413)
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 100; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)))
        controller.close()
      },
    })
    const chunked = await fetch(`${gw.url}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: chunks,
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(413)
  })

  it('marks the cookie Secure when the browser came over HTTPS (a proxy in front)', async () => {
    const response = await fetch(`${gw.url}/auth`, form({ auth_token: TOKEN }, { 'x-forwarded-proto': 'https' }))
    expect(response.headers.getSetCookie()[0]).toMatch(/; Secure$/)
  })

  it('takes the admin token as a Bearer for scripts, without CSRF; a wrong Bearer is 401', async () => {
    const bearer = await fetch(`${gw.url}/api/keys/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ all: true }),
    })
    expect(bearer.status).toBe(200)
    const session = await (await fetch(`${gw.url}/api/session`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()
    expect(session).toMatchObject({ csrfToken: null, expiresAt: null })
    const wrong = await fetch(`${gw.url}/api/keys`, { headers: { authorization: 'Bearer sk-wrong' } })
    expect(wrong.status).toBe(401)
    expectNoSecret(await wrong.text())
  })

  it('logs out (JSON with the CSRF token, or the form with its csrf field): the session is over and the cookie cleared', async () => {
    const a = await login(gw)
    expect((await a.call('POST', '/logout', {}, { 'x-csrf-token': 'wrong' })).status).toBe(403)
    const out = await a.call('POST', '/logout', {})
    expect(out.status).toBe(204)
    expect(out.headers.getSetCookie()[0]).toMatch(/^gemgate_session=; Path=\/; Max-Age=0;/)
    expect((await a.call('GET', '/api/keys')).status).toBe(401)
    const page = await a.call('GET', '/keys')
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/?error=expired')

    const b = await login(gw)
    const formOut = await fetch(`${gw.url}/logout`, form({ csrf: b.csrf }, { cookie: b.cookie }))
    expect(formOut.status).toBe(303)
    expect(formOut.headers.get('location')).toBe('/')
    expect((await b.call('GET', '/api/session')).status).toBe(401)
  })

  it('ends a session when it expires', async () => {
    const client = await login(gw)
    expect((await client.call('GET', '/api/session')).status).toBe(200)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(client.expiresAt - 1000)
    expect((await client.call('GET', '/api/session')).status).toBe(200)
    vi.setSystemTime(client.expiresAt + 1)
    const over = await client.call('GET', '/api/session')
    expect(over.status).toBe(401)
    expect(await over.json()).toEqual({ error: { message: expect.stringContaining('Log in') } })
  })

  it('sweeps sessions that are over with the session-sweep job', async () => {
    await login(gw)
    const bearer = { authorization: `Bearer ${TOKEN}` }
    const jobs = (await (await fetch(`${gw.url}/api/jobs`, { headers: bearer })).json()) as Array<{ name: string; schedule: string }>
    expect(jobs.find((job) => job.name === 'session-sweep')).toMatchObject({ schedule: '*/15 * * * *' })
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 301_000)
    const run = await (await fetch(`${gw.url}/api/jobs/session-sweep/run`, { method: 'POST', headers: bearer })).json()
    expect(run.lastRun).toMatchObject({ ok: true, summary: expect.stringMatching(/^[1-9]\d* session\(s\) removed$/) })
  })

  it('refuses a change with the right cookie but a stale CSRF token', async () => {
    const client = await login(gw)
    // Another client with the same cookie but its own (stale) CSRF token is refused a change.
    const stale = clientFor(gw, client.cookie, 'stale')
    expect((await stale.call('POST', '/api/keys/reset', { all: true })).status).toBe(403)
    expect((await client.call('POST', '/api/keys/reset', { all: true })).status).toBe(200)
  })
})
