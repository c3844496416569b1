import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import admin from './index.ts'
import { expectNoSecret, login, type ConsoleClient } from './test-client.ts'

const generate = (gw: Running, token: string, model = 'gemini-2.5-flash') =>
  post(gw, `/v1beta/models/${model}:generateContent`, userText('x'), { 'x-goog-api-key': token })

/** Per-minute limits count UTC minutes: start a test early enough in one that its requests all fall in it. */
async function awayFromMinuteEnd(marginMs = 8_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < marginMs) await sleep(left + 50)
}

describe('console: client token limits and usage', () => {
  const configured = `sk-configured-${randomBytes(8).toString('hex')}`
  let gw: Running
  let client: ConsoleClient
  beforeAll(async () => {
    gw = await startGateway({
      config: {
        plugins: [admin()],
        clientTokens: [{ token: configured, name: 'from the config', models: ['gemini-2.5-*'], tokensPerMonth: 1000, enabled: true }],
      },
    })
    client = await login(gw)
  })
  afterAll(() => gw.close())

  const rowOf = async (id: string) => (await client.json<any[]>('GET', '/api/tokens')).find((row) => row.id === id)

  it('lists configured tokens with their limits and usage, masked', async () => {
    const rows = await client.json<any[]>('GET', '/api/tokens')
    expect(rows).toEqual([
      expect.objectContaining({ name: 'ALLOWED_TOKENS #1', source: 'config', limits: {}, usage: { requestsToday: 0, tokensToday: 0, tokensThisMonth: 0 } }),
      expect.objectContaining({ name: 'from the config', source: 'config', enabled: true, limits: { models: ['gemini-2.5-*'], tokensPerMonth: 1000 } }),
    ])
    expectNoSecret(JSON.stringify(rows), [configured])
    // A configured token's limits are changed where they are set.
    const refused = await client.call('PUT', `/api/tokens/${rows[1].id}/limits`, { limits: { rpm: 5 } })
    expect(refused.status).toBe(409)
    expect((await refused.json()).error.message).toContain('gateway.config.ts')
    expect((await client.call('PUT', '/api/tokens/no-such-token/limits', { limits: { rpm: 5 } })).status).toBe(404)
  })

  it('creates a token with limits (shown once, stored as SHA-256 only); edits apply at once; usage today and this month shows', async () => {
    await awayFromMinuteEnd()
    const created = await client.call('POST', '/api/tokens', { name: 'metered', limits: { rpm: 1, models: ['gemini-2.5-flash'], tokensPerDay: null } })
    expect(created.status).toBe(201)
    const { token, view } = await created.json()
    expect(view).toMatchObject({ name: 'metered', source: 'console', limits: { rpm: 1, models: ['gemini-2.5-flash'] } })
    expect(JSON.stringify(await client.json('GET', '/api/tokens'))).not.toContain(token)
    const { rows } = await gw.gateway.database.db
      .sql`SELECT * FROM client_tokens t LEFT JOIN client_token_limits l ON l.token_id = t.id WHERE t.id = ${view.id}`
    expect(rows).toEqual([expect.objectContaining({ sha256: createHash('sha256').update(token).digest('hex'), rpm: 1 })])
    expect(JSON.stringify(rows)).not.toContain(token)

    expect((await generate(gw, token)).status).toBe(200)
    expect((await generate(gw, token)).status).toBe(429)
    expect((await generate(gw, token, 'gemini-2.5-pro')).status).toBe(403)

    const edited = await client.json('PUT', `/api/tokens/${view.id}/limits`, {
      limits: { rpm: null, models: [], tokensPerDay: 1000, expiresAt: Date.now() + 86_400_000 },
    })
    expect(edited).toMatchObject({ id: view.id, limits: { tokensPerDay: 1000, expiresAt: expect.any(Number) } })
    expect(edited.limits).not.toHaveProperty('rpm')
    expect(edited.limits).not.toHaveProperty('models')
    expect((await generate(gw, token)).status).toBe(200)
    expect((await generate(gw, token, 'gemini-2.5-pro')).status).toBe(200)

    // Three answers of 3 tokens each, and the two refusals, as the statistics count them.
    await gw.gateway.logs.flush()
    expect((await rowOf(view.id)).usage).toEqual({ requestsToday: 5, tokensToday: 9, tokensThisMonth: 9 })

    // An expiry in the past refuses the token at once.
    await client.json('PUT', `/api/tokens/${view.id}/limits`, { limits: { expiresAt: Date.now() - 1000 } })
    const expired = await generate(gw, token)
    expect(expired.status).toBe(401)
    expect((await expired.json()).error.message).toMatch(/expired at/)
    // Lifting every limit: served again.
    expect((await client.json('PUT', `/api/tokens/${view.id}/limits`, { limits: {} })).limits).toEqual({})
    expect((await generate(gw, token)).status).toBe(200)
  })

  it.each([
    [{ limits: { rpm: 0 } }, 'limits.rpm'],
    [{ limits: { rpd: 2.5 } }, 'limits.rpd'],
    [{ limits: { tokensPerDay: '100' } }, 'limits.tokensPerDay'],
    [{ limits: { rpn: 5 } }, 'limits.rpn'],
    [{ limits: { models: 'gemini-2.5-flash' } }, 'limits.models'],
    [{ limits: { models: [''] } }, 'limits.models.0'],
    [{ limits: { expiresAt: 'tomorrow' } }, 'limits.expiresAt'],
    [{}, 'limits'],
  ])('refuses %j with 400 naming the field', async (body, field) => {
    const [first] = await client.json<any[]>('GET', '/api/tokens')
    const refused = await client.call('PUT', `/api/tokens/${first.id}/limits`, body)
    expect(refused.status).toBe(400)
    expect(Object.keys((await refused.json()).error.fields)).toContain(field)
    expect((await client.call('POST', '/api/tokens', { name: 'bad', ...body })).status).toBe('limits' in body ? 400 : 201)
  })
})
