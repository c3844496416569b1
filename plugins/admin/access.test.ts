import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { TOKEN, startGateway, type Running } from '../../test/e2e/harness.ts'
import { REDIS_URL } from '../../test/storage/backends.ts'
import admin from './index.ts'
import { expectNoSecret, login } from './test-client.ts'

const jsonLogin = (gw: Running, token: string, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/auth`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ auth_token: token }) })

describe('wrong admin tokens are slowed down per client address', () => {
  const gateways: Running[] = []
  afterAll(() => Promise.all(gateways.map((gw) => gw.close())))
  const start = async (options: Parameters<typeof admin>[0] = {}) => {
    const gw = await startGateway({ config: { plugins: [admin(options)] } })
    gateways.push(gw)
    return gw
  }

  it('after 5 wrong logins: 429 with Retry-After, even for the right token, a Bearer or the form; X-Forwarded-For is not trusted', async () => {
    const gw = await start()
    for (let i = 0; i < 5; i++) expect((await jsonLogin(gw, `wrong-${i}`, { 'x-forwarded-for': `10.0.0.${i}` })).status).toBe(401)
    const refused = await jsonLogin(gw, TOKEN)
    expect(refused.status).toBe(429)
    const wait = Number(refused.headers.get('retry-after'))
    expect(wait).toBeGreaterThan(50)
    expect(wait).toBeLessThanOrEqual(60)
    expect((await refused.json()).error.message).toMatch(/^Too many wrong admin tokens from this address: try again in \d+ s\.$/)
    expect(refused.headers.getSetCookie()).toEqual([])

    const bearer = await fetch(`${gw.url}/api/keys`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(bearer.status).toBe(429)
    expectNoSecret(await bearer.text())
    const page = await fetch(`${gw.url}/auth`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `auth_token=${TOKEN}`,
    })
    expect(page.status).toBe(429)
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await page.text()).toContain('Too many wrong admin tokens')
  })

  it('a wrong Bearer counts too', async () => {
    const gw = await start()
    for (let i = 0; i < 5; i++) expect((await fetch(`${gw.url}/api/session`, { headers: { authorization: `Bearer wrong-${i}` } })).status).toBe(401)
    expect((await jsonLogin(gw, TOKEN)).status).toBe(429)
  })

  it('a right login clears the count', async () => {
    const gw = await start()
    for (let i = 0; i < 4; i++) await jsonLogin(gw, 'wrong')
    await login(gw)
    for (let i = 0; i < 4; i++) await jsonLogin(gw, 'wrong')
    expect((await jsonLogin(gw, TOKEN)).status).toBe(200)
  })

  it('behind a proxy the operator trusts, each X-Forwarded-For address is counted apart', async () => {
    const gw = await start({ trustForwardedFor: true })
    for (let i = 0; i < 5; i++) await jsonLogin(gw, 'wrong', { 'x-forwarded-for': '198.51.100.7, 203.0.113.1' })
    expect((await jsonLogin(gw, TOKEN, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429)
    // What the client wrote before the proxy's entry does not get it out.
    expect((await jsonLogin(gw, TOKEN, { 'x-forwarded-for': '192.0.2.99, 203.0.113.1' })).status).toBe(429)
    expect((await jsonLogin(gw, TOKEN, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(200)
  })
})

/** Everything the gateway writes to stdout while `work` runs (the first run's box goes there). */
async function stdoutDuring(work: () => Promise<void>): Promise<string> {
  const chunks: string[] = []
  const write = process.stdout.write
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest)
  }) as typeof process.stdout.write
  try {
    await work()
  } finally {
    process.stdout.write = write
  }
  return chunks.join('')
}

describe('first run with nothing set, and admin token rotation', () => {
  let gw: Running
  afterEach(() => gw?.close())

  it('prints the made admin token once with the console URL; it logs in, and rotating it ends every session', async () => {
    const printed = await stdoutDuring(async () => {
      gw = await startGateway({ env: { ALLOWED_TOKENS: '[]', LOG_LEVEL: 'info' }, config: { plugins: [admin()] } })
    })
    const token = /Admin token:\s+(\S+)/.exec(printed)?.[1]
    expect(token).toBeDefined()
    expect(printed).toMatch(/Console:\s+http:\/\/(localhost|127\.0\.0\.1|\[::1\]):\d+\//)
    expect(printed).toContain('only its SHA-256 is kept')

    // No client token yet: the login page says what to do; the API refuses everything meanwhile.
    const page = await (await fetch(`${gw.url}/`)).text()
    expect(page).toContain('No client token exists yet')
    expect(page).toContain('printed in its log')

    const first = await login(gw, token)
    const second = await login(gw, token)
    expect((await first.json('GET', '/api/session')).adminTokenSource).toBe('generated')
    const rotated = await first.call('POST', '/api/admin-token/rotate')
    expect(rotated.status).toBe(200)
    expect(rotated.headers.getSetCookie()[0]).toMatch(/^gemgate_session=; Path=\/; Max-Age=0;/)
    const { token: next } = (await rotated.json()) as { token: string }
    expect(next).not.toBe(token)
    for (const client of [first, second]) expect((await client.call('GET', '/api/session')).status).toBe(401)
    expect((await jsonLogin(gw, token!)).status).toBe(401)
    await login(gw, next)
  })

  it('refuses to rotate an admin token the environment sets (409)', async () => {
    gw = await startGateway({ config: { plugins: [admin()] } })
    const client = await login(gw)
    const refused = await client.call('POST', '/api/admin-token/rotate')
    expect(refused.status).toBe(409)
    expect((await refused.json()).error.message).toContain('AUTH_TOKEN')
    expect((await client.call('GET', '/api/session')).status).toBe(200)
  })
})

describe('sessions shared by instances through Redis', () => {
  const gateways: Running[] = []
  afterAll(() => Promise.all(gateways.map((gw) => gw.close())))

  it('a session made on one instance works on the other, and a logout on either ends it', async () => {
    const env = { REDIS_URL, AUTH_TOKEN: 'sk-gemgate-test-shared-admin-token-0001' }
    for (let i = 0; i < 2; i++) gateways.push(await startGateway({ env, config: { plugins: [admin()] } }))
    const [a, b] = gateways as [Running, Running]
    const onA = await login(a, env.AUTH_TOKEN)
    const onB = (path: string, init: RequestInit = {}) => fetch(b.url + path, { ...init, headers: { cookie: onA.cookie, ...init.headers } })
    expect((await onB('/api/session')).status).toBe(200)
    const out = await onB('/logout', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': onA.csrf } })
    expect(out.status).toBe(204)
    expect((await onA.call('GET', '/api/session')).status).toBe(401)
  })
})
