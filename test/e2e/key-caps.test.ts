import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { REDIS_URL } from '../storage/backends.ts'
import { KEYS, post, startGateway, userText, type Running } from './harness.ts'

const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'
const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
const PRO = '/v1beta/models/gemini-2.5-pro:generateContent'
/** Eleven words: the fake upstream counts one prompt token per word. */
const ELEVEN = 'one two three four five six seven eight nine ten eleven'

/** Per-minute caps count UTC minutes: start a test early enough in one that its requests all fall in it. */
async function awayFromMinuteEnd(marginMs = 8_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < marginMs) await sleep(left + 50)
}

describe('per-key caps', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_RETRIES: '3' }, config: { keyCaps: { models: { 'gemini-2.5-flash': { rpm: 1 } } } } })
  })
  afterAll(() => gw.close())

  it('a key at its requests per minute is skipped before Google refuses; all at their caps: 429 with Retry-After, no upstream call', async () => {
    await awayFromMinuteEnd()
    gw.upstream.reset()
    for (let i = 0; i < 3; i++) expect((await post(gw, GENERATE, userText('x'))).status).toBe(200)
    expect(new Set(gw.keysUsed())).toEqual(new Set(KEYS))
    const refused = await post(gw, GENERATE, userText('x'))
    expect(refused.status).toBe(429)
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect((await refused.json()).error.message).toContain('at its cap for gemini-2.5-flash')
    expect(gw.upstream.requests).toHaveLength(3)
    // Caps are per model: another model is not held back, and a capped key's health is untouched.
    expect((await post(gw, PRO, userText('x'))).status).toBe(200)
    for (const key of gw.gateway.pool.keys) expect(gw.gateway.pool.health(key)).toEqual({ strikes: 0, cooldowns: {} })
  })
})

describe('token caps', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_RETRIES: '3' }, config: { keyCaps: { tpm: 10 } } })
  })
  afterAll(() => gw.close())

  it('the input tokens of an answer (JSON or stream) put its key at its cap; the next requests go to the others', async () => {
    await awayFromMinuteEnd()
    gw.upstream.reset()
    expect((await post(gw, GENERATE, userText(ELEVEN))).status).toBe(200)
    const stream = await post(gw, STREAM, userText(ELEVEN))
    expect(await stream.text()).toContain('finishReason')
    expect((await post(gw, GENERATE, userText(ELEVEN))).status).toBe(200)
    expect(new Set(gw.keysUsed())).toEqual(new Set(KEYS))
    expect((await post(gw, GENERATE, userText('x'))).status).toBe(429)
    expect(gw.upstream.requests).toHaveLength(3)
  })
})

describe('waiting for a cooling key', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_RETRIES: '3', KEY_WAIT_SECONDS: '3' } })
  })
  afterAll(() => gw.close())
  const coolEveryKey = (seconds: number) => {
    gw.reset()
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'rate-minute', { retryDelaySeconds: seconds, times: 1 })
  }

  it('when every key is cooling down, a request waits for the first to come back and is served', async () => {
    coolEveryKey(1)
    expect((await post(gw, GENERATE, userText('x'))).status).toBe(429)
    const started = performance.now()
    const waited = await post(gw, GENERATE, userText('x'))
    expect(waited.status).toBe(200)
    expect(performance.now() - started).toBeGreaterThan(500)
    expect(gw.upstream.requests).toHaveLength(4)
  })

  it('past the bound it does not wait: 429 with Retry-After at once', async () => {
    coolEveryKey(30)
    await post(gw, GENERATE, userText('x'))
    const started = performance.now()
    const refused = await post(gw, GENERATE, userText('x'))
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(28)
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('a client that leaves while it waits sends nothing upstream', async () => {
    coolEveryKey(2)
    await post(gw, GENERATE, userText('x'))
    await expect(post(gw, GENERATE, userText('x'), {}, AbortSignal.timeout(300))).rejects.toThrow()
    await sleep(2_500)
    expect(gw.upstream.requests).toHaveLength(3)
  })
})

describe('caps shared by two gateways on one Redis', () => {
  let upstream: FakeUpstream
  const gateways: Running[] = []
  const keys = [1, 2].map((i) => `AIzaSy-caps-${randomBytes(6).toString('hex')}-${i}`)
  beforeAll(async () => {
    upstream = await startFakeUpstream()
    // One deployment (one database, so one deployment secret): both name the keys, and so their counters, alike.
    const env = {
      REDIS_URL,
      REDIS_PREFIX: `gemgate-test-${randomBytes(4).toString('hex')}`,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-caps-')),
      API_KEYS: JSON.stringify(keys),
      MAX_RETRIES: '2',
    }
    for (let i = 0; i < 2; i++) gateways.push(await startGateway({ env, upstreamInstance: upstream, config: { keyCaps: { rpm: 3 } } }))
  })
  afterAll(async () => {
    for (const gw of gateways) await gw.close()
    await upstream.close()
  })

  it('requests spread over both never pass a key’s cap: exactly the caps’ sum reaches Google', async () => {
    await awayFromMinuteEnd()
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => post(gateways[i % 2]!, GENERATE, userText('x'))))
    const statuses = answers.map((answer) => answer.status).sort()
    expect(statuses.filter((status) => status === 200)).toHaveLength(6)
    expect(statuses.filter((status) => status === 429)).toHaveLength(6)
    for (const key of keys) expect(upstream.requests.filter((request) => request.key === key)).toHaveLength(3)
  })
})
