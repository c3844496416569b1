import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, post, startGateway, userText, type Running } from './harness.ts'

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'
const [K1, K2, K3] = KEYS as [string, string, string]

/** Rotation, retries and key health, driven through real HTTP against the fake upstream. */
describe('key pool through the gateway', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_RETRIES: '3', MAX_FAILURES: '2' } })
  })
  afterAll(() => gw.close())
  beforeEach(() => {
    gw.reset()
  })
  const health = (key: string) => gw.gateway.pool.health(gw.gateway.pool.get(gw.gateway.idOf(key))!)
  const send = (text = 'x') => post(gw, GENERATE, userText(text))

  it('rotates round robin over the keys', async () => {
    for (let i = 0; i < 6; i++) expect((await send()).status).toBe(200)
    const used = gw.keysUsed()
    expect(new Set(used.slice(0, 3))).toEqual(new Set(KEYS))
    expect(used.slice(3)).toEqual(used.slice(0, 3))
  })

  it('a per-minute 429 cools that key down for that model (RetryInfo delay) and the request succeeds on the next key', async () => {
    gw.upstream.setBehaviour(K1, 'rate-minute', { retryDelaySeconds: 26 })
    gw.upstream.setBehaviour(K2, 'rate-minute', { retryDelaySeconds: 26 })
    gw.upstream.setBehaviour(K3, 'rate-minute', { retryDelaySeconds: 26 })
    gw.upstream.setBehaviour(K3, 'ok')
    const res = await send()
    expect(res.status).toBe(200)
    const cooled = [K1, K2].filter((k) => health(k).cooldowns['gemini-2.5-flash'])
    expect(cooled.length).toBeGreaterThan(0)
    for (const k of cooled) {
      const until = health(k).cooldowns['gemini-2.5-flash']!.until
      expect(until - Date.now()).toBeGreaterThan(20_000)
      expect(until - Date.now()).toBeLessThanOrEqual(26_000)
      expect(health(k).disabled).toBeUndefined()
      expect(health(k).strikes).toBe(0)
    }
    // The cooled keys are skipped for this model, but still serve another one.
    gw.upstream.reset()
    for (let i = 0; i < 3; i++) await send()
    expect(new Set(gw.keysUsed())).toEqual(new Set([K3]))
    await post(gw, '/v1beta/models/gemini-2.5-pro:generateContent', userText('x'))
    await post(gw, '/v1beta/models/gemini-2.5-pro:generateContent', userText('x'))
    expect(gw.keysUsed().slice(3)).not.toEqual([K3, K3])
  })

  it('a per-day quota cools the key until Pacific midnight', async () => {
    gw.upstream.setBehaviour(K1, 'rate-day')
    gw.upstream.setBehaviour(K2, 'rate-day')
    gw.upstream.setBehaviour(K3, 'rate-day')
    const res = await send()
    expect(res.status).toBe(429)
    for (const k of KEYS) {
      const cooldown = health(k).cooldowns['gemini-2.5-flash']!
      const pacific = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).format(
        cooldown.until,
      )
      expect(pacific).toBe('00:00')
    }
  })

  it("when every key is cooling, answers 429 with Retry-After and Google's body, without calling upstream again", async () => {
    for (const k of KEYS) gw.upstream.setBehaviour(k, 'rate-minute', { retryDelaySeconds: 40 })
    const first = await send()
    expect(first.status).toBe(429)
    expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(39)
    expect((await first.json()).error.status).toBe('RESOURCE_EXHAUSTED')
    expect(gw.upstream.requests).toHaveLength(3)
    const second = await send()
    expect(second.status).toBe(429)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(38)
    expect((await second.json()).error.message).toContain('Every enabled API key is rate-limited')
    expect(gw.upstream.requests).toHaveLength(3)
    expect(gw.gateway.pool.disabledKeys()).toHaveLength(0)
  })

  it('an invalid or suspended key is disabled at once, never handed out again, and the request still succeeds', async () => {
    gw.upstream.setBehaviour(K1, 'invalid-key')
    gw.upstream.setBehaviour(K2, 'suspended')
    for (let i = 0; i < 4; i++) expect((await send()).status).toBe(200)
    expect(health(K1).disabled?.reason).toMatch(/invalid/i)
    expect(health(K2).disabled?.reason).toMatch(/suspended/i)
    const used = gw.keysUsed()
    expect(used.filter((k) => k === K1)).toHaveLength(1)
    expect(used.filter((k) => k === K2)).toHaveLength(1)
  })

  const FORBIDDEN = { status: 403, json: { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } } }
  const probes = () => gw.upstream.requests.filter((r) => r.model === 'gemini-2.5-flash-lite')

  it("a 403 without structured details is confirmed on the key: when the key answers a fixed request, the 403 is the request's", async () => {
    for (const k of KEYS) gw.upstream.script(k, FORBIDDEN, { times: 1 })
    const res = await send()
    expect(res.status).toBe(403) // Google's answer about the request, passed through
    expect((await res.json()).error.status).toBe('PERMISSION_DENIED')
    const [first, probed] = gw.keysUsed()
    expect([gw.keysUsed().length, probed]).toEqual([2, first]) // the request, then the probe on the same key; no other key spent
    expect(probes()).toHaveLength(1)
    for (const k of KEYS) expect(health(k)).toEqual({ strikes: 0, cooldowns: {} })
    for (let i = 0; i < 2; i++) expect((await send()).status).toBe(403)
    expect(probes()).toHaveLength(3)
    // Every key just passed: the same refusals a moment later are settled without probing again.
    for (const k of KEYS) gw.upstream.script(k, FORBIDDEN, { times: 1 })
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(403)
    expect(probes()).toHaveLength(3)
    for (const k of KEYS) expect(health(k)).toEqual({ strikes: 0, cooldowns: {} })
  })

  it('a key that refuses the fixed request too is struck, the request moves on, and MAX_FAILURES strikes disable it', async () => {
    gw.upstream.script(K1, FORBIDDEN) // every request of K1, the probes included
    for (let i = 0; i < 6; i++) expect((await send()).status).toBe(200)
    expect(health(K1).disabled?.reason).toMatch(/2 failures in a row/)
    expect(health(K2)).toEqual({ strikes: 0, cooldowns: {} })
    expect(health(K3)).toEqual({ strikes: 0, cooldowns: {} })
  })

  it("when every key is refused, the client hears a generic 503: Google's words (which can name the key's project) stay in the log", async () => {
    const leaked = {
      status: 403,
      json: { error: { code: 403, message: 'Your API key was reported as leaked. Project 578829824020.', status: 'PERMISSION_DENIED' } },
    }
    for (const k of KEYS) gw.upstream.script(k, leaked)
    const rejected = await send()
    expect(rejected.status).toBe(503)
    const text = await rejected.text()
    expect(text).toContain('refused by Google')
    expect(text).not.toContain('578829824020')
    expect(text).not.toContain('leaked')
    for (const k of KEYS) expect(health(k).strikes).toBe(1)
  })

  it('a 404 on a model other keys serve is confirmed on the model: a key that cannot use it cools down for it, the request moves on', async () => {
    expect((await send()).status).toBe(200) // some key served gemini-2.5-flash
    const retired = {
      status: 404,
      json: { error: { code: 404, message: 'This model models/gemini-2.5-flash is no longer available to new users.', status: 'NOT_FOUND' } },
    }
    gw.upstream.script(K1, retired) // K1 cannot use the model at all: the request and the countTokens probe both 404
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200)
    const probe = gw.upstream.requests.find((r) => r.action === 'countTokens')
    expect(probe?.key).toBe(K1)
    expect(health(K1).cooldowns['gemini-2.5-flash']?.reason).toBe('model-unavailable')
    expect(health(K1).disabled).toBeUndefined()
  })

  it('a 404 the key alone cannot explain (a missing resource the request named) passes through and cools nothing', async () => {
    expect((await send()).status).toBe(200)
    const missing = { status: 404, json: { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } } }
    for (const k of KEYS) gw.upstream.script(k, missing, { times: 1 })
    const res = await send()
    expect(res.status).toBe(404)
    expect(gw.upstream.requests.filter((r) => r.action === 'countTokens')).toHaveLength(1)
    for (const k of KEYS) expect(health(k)).toEqual({ strikes: 0, cooldowns: {} })
  })

  it('client errors are passed through at once and never touch key health', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await post(gw, '/v1beta/models/no-such-model:generateContent', userText('x'))
      expect(res.status).toBe(404)
    }
    gw.upstream.setBehaviour(K1, 'location')
    gw.upstream.setBehaviour(K2, 'location')
    gw.upstream.setBehaviour(K3, 'location')
    const res = await send()
    expect(res.status).toBe(400)
    expect((await res.json()).error.status).toBe('FAILED_PRECONDITION')
    expect(gw.upstream.requests).toHaveLength(4)
    for (const k of KEYS) expect(health(k)).toEqual({ strikes: 0, cooldowns: {} })
  })

  it('5xx, overload and transport failures retry on other keys without disabling any', async () => {
    gw.upstream.setBehaviour(K1, 'overloaded')
    gw.upstream.setBehaviour(K2, 'reset-before-headers')
    gw.upstream.setBehaviour(K3, 'internal')
    const res = await send()
    expect(res.status).toBeGreaterThanOrEqual(500)
    expect(gw.upstream.requests.length + 1).toBeGreaterThanOrEqual(3)
    for (const k of KEYS) expect(health(k)).toEqual({ strikes: 0, cooldowns: {} })
    gw.upstream.setBehaviour(K1, 'ok')
    gw.upstream.setBehaviour(K3, 'ok')
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200)
  })

  it('MAX_RETRIES bounds the attempts, each on a different key, and the last upstream error reaches the client', async () => {
    for (const k of KEYS) gw.upstream.setBehaviour(k, 'internal')
    const res = await send()
    expect(res.status).toBe(500)
    expect((await res.json()).error.message).toContain('An internal error has occurred')
    expect(new Set(gw.keysUsed())).toEqual(new Set(KEYS))
    expect(gw.upstream.requests).toHaveLength(3)
  })

  it('an empty answer is retried on another key', async () => {
    gw.upstream.setBehaviour(K1, 'empty')
    gw.upstream.setBehaviour(K2, 'empty')
    gw.upstream.setBehaviour(K3, 'empty')
    gw.upstream.setBehaviour(K3, 'ok')
    const res = await send('hello')
    expect((await res.json()).candidates[0].content.parts[0].text).toBe('Echo: hello')
  })

  it('a timeout (TIME_OUT) counts as a transport failure and moves on', async () => {
    const slow = await startGateway({ env: { TIME_OUT: '1', MAX_RETRIES: '2' }, upstreamInstance: gw.upstream })
    try {
      gw.upstream.setBehaviour(K1, 'slow', { slowMs: 3000 })
      gw.upstream.setBehaviour(K2, 'slow', { slowMs: 3000 })
      gw.upstream.setBehaviour(K3, 'slow', { slowMs: 3000 })
      const started = Date.now()
      const res = await post(slow, GENERATE, userText('x'))
      expect(res.status).toBe(504)
      expect(Date.now() - started).toBeLessThan(4500) // two 1 s timeouts, not two 3 s waits
    } finally {
      await slow.close()
    }
  })

  it('re-checks disabled keys with TEST_MODEL and re-enables the ones that work again', async () => {
    gw.upstream.setBehaviour(K1, 'invalid-key', { times: 1 })
    gw.upstream.setBehaviour(K2, 'leaked')
    for (let i = 0; i < 3; i++) await send()
    expect(gw.gateway.pool.disabledKeys()).toHaveLength(2)
    gw.upstream.reset()
    gw.upstream.setBehaviour(K2, 'leaked')
    const result = await gw.gateway.recheck.runNow()
    expect(result).toEqual({ checked: 2, reenabled: 1 })
    expect(health(K1).disabled).toBeUndefined()
    expect(health(K2).disabled).toBeDefined()
    expect(gw.upstream.requests.map((r) => r.model)).toEqual(['gemini-2.5-flash-lite', 'gemini-2.5-flash-lite'])
  })
})
