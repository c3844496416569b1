import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { utcDayAt, utcMonthAt } from '../../core/clients/limits.ts'
import type { ResolvedConfig } from '../../core/config/schema.ts'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { clearPrefix, freshPrefix, REDIS_URL } from '../instances/redis.ts'
import { TOKEN, startGateway, userText, type Running } from './harness.ts'

/** A client token of this run (long enough not to be warned about). */
const token = (what: string) => `sk-limits-${what}-${randomBytes(8).toString('hex')}`

/** Per-minute limits count UTC minutes: start a test early enough in one that its requests all fall in it. */
async function awayFromMinuteEnd(marginMs = 8_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < marginMs) await sleep(left + 50)
}

/** What differs between the client APIs: how a request is sent, and how an error names its kind. */
interface ClientApi {
  name: string
  /** The ids of the model list the token gets. */
  listModels(gw: Running, token: string): Promise<string[]>
  send(gw: Running, token: string, options?: { model?: string; stream?: boolean }): Promise<Response>
  /** The error's kind as the API writes it, for 401, 403 and 429. */
  kinds: Record<401 | 403 | 429, unknown>
  kindOf(body: any): unknown
}

const APIS: ClientApi[] = [
  {
    name: 'native Gemini',
    listModels: async (gw, token) => {
      const list = (await (await fetch(`${gw.url}/v1beta/models?pageSize=1000`, { headers: { 'x-goog-api-key': token } })).json()) as {
        models: { name: string }[]
      }
      return list.models.map((model) => model.name.replace(/^models\//, ''))
    },
    send: (gw, token, { model = 'gemini-2.5-flash', stream = false } = {}) =>
      fetch(`${gw.url}/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': token },
        body: JSON.stringify(userText('x')),
      }),
    kinds: { 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 429: 'RESOURCE_EXHAUSTED' },
    kindOf: (body) => body.error.status,
  },
  {
    name: 'OpenAI',
    listModels: async (gw, token) => {
      const list = (await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { id: string }[] }
      return list.data.map((model) => model.id)
    },
    send: (gw, token, { model = 'gemini-2.5-flash', stream = false } = {}) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], stream }),
      }),
    kinds: { 401: 'invalid_request_error', 403: 'permission_error', 429: 'rate_limit_error' },
    kindOf: (body) => body.error.type,
  },
]

describe.each(APIS)('client token limits, $name', (api) => {
  const tokens = {
    rpm: token('rpm'),
    rpd: token('rpd'),
    day: token('day'),
    month: token('month'),
    models: token('models'),
    expired: token('expired'),
    later: token('later'),
    disabled: token('disabled'),
  }
  const clientTokens: ResolvedConfig['clientTokens'] = [
    { token: tokens.rpm, name: 'per minute', rpm: 2, enabled: true },
    { token: tokens.rpd, name: 'per day', rpd: 2, enabled: true },
    // "x" is one prompt token, "Echo: x" two: 3 tokens an answer.
    { token: tokens.day, name: 'daily budget', tokensPerDay: 5, enabled: true },
    { token: tokens.month, name: 'monthly budget', tokensPerMonth: 5, enabled: true },
    { token: tokens.models, name: 'flash only', models: ['gemini-2.5-flash', 'gemini-2.0-*'], enabled: true },
    { token: tokens.expired, name: 'expired', expiresAt: Date.now() - 60_000, enabled: true },
    { token: tokens.later, name: 'expires later', expiresAt: Date.now() + 3_600_000, enabled: true },
    { token: tokens.disabled, name: 'disabled', enabled: false },
  ]
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ config: { clientTokens } })
  })
  afterAll(() => gw.close())

  const idOf = (name: keyof typeof tokens) => gw.gateway.idOf(tokens[name])
  /** Sends, and returns the status, Retry-After and the error's kind and message (or the answer's text). */
  const call = async (name: keyof typeof tokens, options?: { model?: string; stream?: boolean }) => {
    const response = await api.send(gw, tokens[name], options)
    const text = await response.text()
    const body = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      kind: response.ok ? undefined : api.kindOf(body),
      message: response.ok ? undefined : (body.error.message as string),
      text,
    }
  }
  /** Upstream calls so far: a refused request adds none. */
  const upstreamCalls = () => gw.upstream.requests.length
  /** The refused rows of a token's requests, as the console counts them. */
  const refusedRows = async (name: keyof typeof tokens) => {
    await gw.gateway.logs.flush()
    const page = await gw.gateway.control.logs.requests({ tokenId: idOf(name) })
    return page.items.filter((row) => row.operation === 'refused')
  }
  const secondsTo = (end: number) => Math.ceil((end - Date.now()) / 1000)

  it('requests per minute: past the limit 429 with Retry-After to the minute’s end, in the API’s shape, no key spent, logged as refused', async () => {
    await awayFromMinuteEnd()
    const before = upstreamCalls()
    expect((await call('rpm')).status).toBe(200)
    expect((await call('rpm', { stream: true })).status).toBe(200)
    const refused = await call('rpm')
    expect(refused).toMatchObject({ status: 429, kind: api.kinds[429] })
    expect(refused.message).toContain('2 requests per minute')
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1)
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60)
    expect(upstreamCalls()).toBe(before + 2)
    expect(await refusedRows('rpm')).toEqual([expect.objectContaining({ status: 429, keyId: '', model: 'gemini-2.5-flash', failureClass: 'client-error' })])
    // Other tokens are not held back by this one's limit.
    expect((await call('later')).status).toBe(200)
  })

  it('requests per day: Retry-After runs to the end of the UTC day', async () => {
    expect((await call('rpd')).status).toBe(200)
    expect((await call('rpd')).status).toBe(200)
    const refused = await call('rpd')
    expect(refused).toMatchObject({ status: 429, kind: api.kinds[429] })
    expect(refused.message).toContain('2 requests per day (UTC)')
    expect(Math.abs(Number(refused.retryAfter) - secondsTo(utcDayAt(Date.now()).end))).toBeLessThanOrEqual(2)
  })

  it('tokens per day: the answers’ usage (a stream’s too) spends the budget; once used up, 429 until the UTC day ends', async () => {
    const before = upstreamCalls()
    expect((await call('day')).status).toBe(200)
    // 3 of 5 spent: the next request still goes, and its stream spends 3 more when it ends.
    const streamed = await call('day', { stream: true })
    expect(streamed.status).toBe(200)
    expect(streamed.text).toMatch(/"STOP"|"stop"/)
    const refused = await call('day')
    expect(refused).toMatchObject({ status: 429, kind: api.kinds[429] })
    expect(refused.message).toContain('5 tokens per day (UTC)')
    expect(Math.abs(Number(refused.retryAfter) - secondsTo(utcDayAt(Date.now()).end))).toBeLessThanOrEqual(2)
    expect(upstreamCalls()).toBe(before + 2)
  })

  it('tokens per month: once used up, 429 until the UTC month ends', async () => {
    expect((await call('month')).status).toBe(200)
    expect((await call('month')).status).toBe(200)
    const refused = await call('month')
    expect(refused).toMatchObject({ status: 429, kind: api.kinds[429] })
    expect(refused.message).toContain('5 tokens per month (UTC)')
    expect(Math.abs(Number(refused.retryAfter) - secondsTo(utcMonthAt(Date.now()).end))).toBeLessThanOrEqual(2)
  })

  it('models: another model gets 403 naming it, no key spent; the allowed ones (and a prefix) are served', async () => {
    const before = upstreamCalls()
    const refused = await call('models', { model: 'gemini-2.5-pro' })
    expect(refused).toMatchObject({ status: 403, kind: api.kinds[403] })
    expect(refused.message).toContain('may not use the model gemini-2.5-pro')
    expect(upstreamCalls()).toBe(before)
    expect((await call('models')).status).toBe(200)
    expect((await call('models', { model: 'gemini-2.0-flash' })).status).toBe(200)
    expect(await refusedRows('models')).toEqual([expect.objectContaining({ status: 403, model: 'gemini-2.5-pro' })])
  })

  it('model lists show a token limited to some models only those; others see every model', async () => {
    const limited = await api.listModels(gw, tokens.models)
    expect(limited.length).toBeGreaterThan(1)
    for (const id of limited) expect(id === 'gemini-2.5-flash' || id.startsWith('gemini-2.0-')).toBe(true)
    const all = await api.listModels(gw, TOKEN)
    expect(all).toEqual(expect.arrayContaining(['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash']))
  })

  it('expiry and disabled: 401 saying which, before the body is read; a token expiring later works', async () => {
    const before = upstreamCalls()
    const expired = await call('expired')
    expect(expired).toMatchObject({ status: 401, kind: api.kinds[401] })
    expect(expired.message).toMatch(/^This gateway token expired at /)
    const disabled = await call('disabled')
    expect(disabled).toMatchObject({ status: 401, kind: api.kinds[401], message: 'This gateway token is disabled.' })
    expect(upstreamCalls()).toBe(before)
    expect((await call('later')).status).toBe(200)
  })

  it('a plain ALLOWED_TOKENS token has no limit', async () => {
    for (let i = 0; i < 4; i++) expect((await api.send(gw, TOKEN)).status).toBe(200)
  })
})

describe('a client token’s requests per minute across two gateways on one Redis', () => {
  let upstream: FakeUpstream
  const gateways: Running[] = []
  const prefix = freshPrefix()
  const limited = token('shared')
  beforeAll(async () => {
    upstream = await startFakeUpstream()
    // One deployment (one database, so one deployment secret): both name the token, and so its counters, alike.
    const env = { REDIS_URL, REDIS_PREFIX: prefix, DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-limits-')) }
    for (let i = 0; i < 2; i++) {
      gateways.push(await startGateway({ env, upstreamInstance: upstream, config: { clientTokens: [{ token: limited, rpm: 5, enabled: true }] } }))
    }
  })
  afterAll(async () => {
    for (const gw of gateways) await gw.close()
    await upstream.close()
    await clearPrefix(prefix)
  })

  it('requests spread over both, at once: exactly the limit is served, the rest get 429 and never reach Google', async () => {
    await awayFromMinuteEnd()
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => APIS[i % 2]!.send(gateways[i % 2]!, limited)))
    const statuses = answers.map((answer) => answer.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(5)
    expect(statuses.filter((status) => status === 429)).toHaveLength(7)
    expect(upstream.requests).toHaveLength(5)
    for (const answer of answers.filter((each) => each.status === 429)) expect(Number(answer.headers.get('retry-after'))).toBeLessThanOrEqual(60)
  })
})
