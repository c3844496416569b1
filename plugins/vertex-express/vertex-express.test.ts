import { GoogleGenAI } from '@google/genai'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import { startFakeUpstream, type FakeUpstream } from '../../test/fake-upstream/index.ts'
import { registerSecrets } from '../../test/secrets/recorder.ts'
import search from '../search/index.ts'
import vertexExpress from './index.ts'

const VERTEX_KEYS = ['AQ.vertex-express-key-one-00000000000000000000000000001', 'AQ.vertex-express-key-two-00000000000000000000000000002']
const BASE = '/v1beta1/publishers/google'
const GENERATE = '/vertex-express/v1beta/models/gemini-2.5-flash:generateContent'

/** A gateway with the search plugin and this one, in front of the AI Studio fake and a fake answering as Vertex does. */
async function startWithVertex(): Promise<{ gw: Running; vertex: FakeUpstream; close(): Promise<void> }> {
  registerSecrets(VERTEX_KEYS) // the leak check looks for them too
  const vertex = await startFakeUpstream({ vertex: true })
  const gw = await startGateway({
    env: { VERTEX_API_KEYS: JSON.stringify(VERTEX_KEYS), VERTEX_EXPRESS_BASE_URL: vertex.url },
    config: { plugins: [search(), vertexExpress()] },
  })
  return { gw, vertex, close: async () => void (await Promise.all([gw.close(), vertex.close()])) }
}

/** @google/genai as a Gemini API client pointed at the Vertex routes: it calls {baseUrl}/v1beta/models/... */
const genai = (gw: Running) => new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: `${gw.url}/vertex-express` } })

const poolUntouched = (gw: Running) =>
  gw.gateway.pool.keys.every((key) => {
    const health = gw.gateway.pool.health(key)
    return health.strikes === 0 && !health.disabled && Object.keys(health.cooldowns).length === 0
  })

describe('vertex-express: the Gemini API under /vertex-express/v1beta, answered by Vertex AI with its own keys', () => {
  let gw: Running
  let vertex: FakeUpstream
  let close: () => Promise<void>
  beforeAll(async () => ({ gw, vertex, close } = await startWithVertex()))
  afterAll(() => close())
  beforeEach(() => {
    gw.reset()
    vertex.reset()
  })

  it('generateContent through the SDK: Vertex gets the call under its base path with a Vertex key in x-goog-api-key', async () => {
    const answer = await genai(gw).models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello vertex' })
    expect(answer.text).toBe('Echo: hello vertex')
    expect(vertex.requests).toHaveLength(1)
    const seen = vertex.requests[0]!
    expect(seen.path).toBe(`${BASE}/models/gemini-2.5-flash:generateContent`)
    expect(seen.key).toBe(VERTEX_KEYS[0])
    expect(seen.headers['x-goog-api-key']).toBe(VERTEX_KEYS[0])
    expect(seen.query).toEqual({}) // the key never travels in a URL
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it("the client's bytes reach Vertex unchanged", async () => {
    const body = '{"contents": [{"role": "user", "parts": [{"text": "exact bytes"}]}],\n  "generationConfig": {"temperature": 0.5}}'
    const res = await post(gw, GENERATE, body)
    expect(res.status).toBe(200)
    expect(vertex.requests[0]!.body).toBe(body)
  })

  it('streamGenerateContent with alt=sse: the SDK reads the SSE stream; Vertex is asked for SSE', async () => {
    const texts: string[] = []
    for await (const chunk of await genai(gw).models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'stream me' })) texts.push(chunk.text ?? '')
    expect(texts.join('')).toBe('Echo: stream me')
    expect(texts.length).toBeGreaterThan(1)
    const seen = vertex.requests[0]!
    expect(seen.path).toBe(`${BASE}/models/gemini-2.5-pro:streamGenerateContent`)
    expect(seen.query).toEqual({ alt: 'sse' })
    expect(VERTEX_KEYS).toContain(seen.key)
  })

  it("streamGenerateContent without alt=sse: Google's JSON array, as the native route answers", async () => {
    const res = await post(gw, '/vertex-express/v1beta/models/gemini-2.5-flash:streamGenerateContent', userText('array form'))
    expect(res.headers.get('content-type')).toContain('application/json')
    const chunks = JSON.parse(await res.text())
    expect(chunks).toHaveLength(3)
    expect(chunks.map((c: any) => c.candidates[0].content.parts[0].text).join('')).toBe('Echo: array form')
    expect(chunks.at(-1).candidates[0].finishReason).toBe('STOP')
    expect(vertex.requests[0]!.path).toBe(`${BASE}/models/gemini-2.5-flash:streamGenerateContent`)
  })

  it('countTokens goes to Vertex', async () => {
    const counted = await genai(gw).models.countTokens({ model: 'gemini-2.5-flash', contents: 'one two three' })
    expect(counted.totalTokens).toBe(3)
    expect(vertex.requests.map((r) => r.path)).toEqual([`${BASE}/models/gemini-2.5-flash:countTokens`])
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it("the model list and get are the Gemini API's (AI Studio keys, variants included); no Vertex key is spent on them", async () => {
    const names: string[] = []
    for await (const model of await genai(gw).models.list()) names.push(model.name!)
    expect(names).toContain('models/gemini-2.5-flash')
    expect(names.indexOf('models/gemini-2.5-flash-search')).toBeGreaterThan(names.indexOf('models/gemini-2.5-flash'))
    expect((await genai(gw).models.get({ model: 'gemini-2.5-pro' })).displayName).toBe('Gemini 2.5 Pro')
    expect((await genai(gw).models.get({ model: 'gemini-2.5-pro-search' })).name).toBe('models/gemini-2.5-pro-search')
    expect(vertex.requests).toHaveLength(0)
    expect(gw.upstream.requests.length).toBeGreaterThan(0)
    expect(gw.upstream.requests.every((r) => KEYS.includes(r.key!))).toBe(true)
  })

  it("other plugins' variants work here too: `-search` asks Vertex for the base model with googleSearch", async () => {
    const answer = await genai(gw).models.generateContent({ model: 'gemini-2.5-flash-search', contents: 'weather' })
    const seen = vertex.requests[0]!
    expect(seen.path).toBe(`${BASE}/models/gemini-2.5-flash:generateContent`)
    expect(JSON.parse(seen.body).tools).toEqual([{ googleSearch: {} }])
    expect(answer.text).toContain('**Sources:**')
  })

  it("Vertex's own refusals reach the client in Gemini's shape, untouched", async () => {
    vertex.setBehaviour(VERTEX_KEYS[0]!, 'location', { times: 1 })
    vertex.setBehaviour(VERTEX_KEYS[1]!, 'location', { times: 1 })
    const res = await post(gw, GENERATE, userText('refused'))
    expect(res.status).toBe(400)
    expect((await res.json()).error.status).toBe('FAILED_PRECONDITION')
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it("methods Vertex express mode does not serve are a 404, and the client's token is checked first", async () => {
    const res = await post(gw, '/vertex-express/v1beta/models/gemini-embedding-001:embedContent', { content: { parts: [{ text: 'x' }] } })
    expect(res.status).toBe(404)
    expect((await res.json()).error.status).toBe('NOT_FOUND')
    const anonymous = await fetch(gw.url + GENERATE, { method: 'POST', body: JSON.stringify(userText('who')) })
    expect(anonymous.status).toBe(401)
    const listing = await fetch(`${gw.url}/vertex-express/v1beta/models`)
    expect(listing.status).toBe(401)
    expect(vertex.requests).toHaveLength(0)
  })

  it('log rows of these requests carry the dialect vertex-express and a Vertex key', async () => {
    await post(gw, GENERATE, userText('logged'))
    await gw.gateway.logs.flush()
    const { rows } = await gw.gateway.database.db.sql`SELECT * FROM {${'request_logs'}} ORDER BY id DESC LIMIT 1`
    expect(rows![0]).toMatchObject({ dialect: 'vertex-express', operation: 'generateContent', model: 'gemini-2.5-flash', status: 200 })
    expect(VERTEX_KEYS.map(gw.gateway.idOf)).toContain(rows![0]!.key_id)
  })
})

describe('vertex-express key health: the Vertex pool alone, never the Gemini API keys', () => {
  let gw: Running
  let vertex: FakeUpstream
  let close: () => Promise<void>
  beforeEach(async () => ({ gw, vertex, close } = await startWithVertex()))
  afterEach(() => close())

  it('a 429 on one Vertex key is retried on the next Vertex key, which then serves alone while the first cools down', async () => {
    vertex.setBehaviour(VERTEX_KEYS[0]!, 'rate-minute') // Vertex answers a bare 429: no quota details, no retry delay
    const first = await post(gw, GENERATE, userText('one'))
    expect(first.status).toBe(200)
    expect(vertex.requests.map((r) => r.key)).toEqual([VERTEX_KEYS[0], VERTEX_KEYS[1]])
    for (const text of ['two', 'three', 'four']) expect((await post(gw, GENERATE, userText(text))).status).toBe(200)
    expect(vertex.requests.slice(2).map((r) => r.key)).toEqual([VERTEX_KEYS[1], VERTEX_KEYS[1], VERTEX_KEYS[1]])
    expect(gw.upstream.requests).toHaveLength(0)
    expect(poolUntouched(gw)).toBe(true)
  })

  it("every Vertex key rate-limited: Vertex's 429 reaches the client; no Gemini API key is tried", async () => {
    for (const key of VERTEX_KEYS) vertex.setBehaviour(key, 'rate-minute')
    const res = await post(gw, GENERATE, userText('busy'))
    expect(res.status).toBe(429)
    expect((await res.json()).error.status).toBe('RESOURCE_EXHAUSTED')
    expect(vertex.requests.map((r) => r.key)).toEqual(VERTEX_KEYS)
    expect(gw.upstream.requests).toHaveLength(0)
    expect(poolUntouched(gw)).toBe(true)
  })

  it('an invalid Vertex key is disabled in the Vertex pool only; the Gemini API pool is untouched', async () => {
    vertex.setBehaviour(VERTEX_KEYS[0]!, 'invalid-key')
    expect((await post(gw, GENERATE, userText('one'))).status).toBe(200)
    expect(vertex.requests.map((r) => r.key)).toEqual([VERTEX_KEYS[0], VERTEX_KEYS[1]])
    for (const text of ['two', 'three']) expect((await post(gw, GENERATE, userText(text))).status).toBe(200)
    expect(vertex.requests.slice(2).map((r) => r.key)).toEqual([VERTEX_KEYS[1], VERTEX_KEYS[1]])
    expect(gw.gateway.pool.disabledKeys()).toHaveLength(0)
    expect(poolUntouched(gw)).toBe(true)
    expect(gw.upstream.requests).toHaveLength(0)
    // The gateway's own routes still use the Gemini API keys, at BASE_URL.
    expect((await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('native'))).status).toBe(200)
    expect(gw.upstream.requests.map((r) => r.key)).toEqual([KEYS[0]])
    expect(vertex.requests).toHaveLength(4)
  })
  it('a Vertex key refused without details is confirmed, and re-checked, at Vertex: no Vertex key ever reaches BASE_URL', async () => {
    const refused = { status: 403, json: { error: { code: 403, message: 'Permission denied.', status: 'PERMISSION_DENIED' } } }
    vertex.script(VERTEX_KEYS[0]!, refused) // every request of this key, the fixed ones included
    expect((await post(gw, GENERATE, userText('one'))).status).toBe(200)
    // The request, the confirmation on TEST_MODEL (refused too: a strike), then the next Vertex key.
    expect(vertex.requests.map((r) => [r.key, r.model])).toEqual([
      [VERTEX_KEYS[0], 'gemini-2.5-flash'],
      [VERTEX_KEYS[0], 'gemini-2.5-flash-lite'],
      [VERTEX_KEYS[1], 'gemini-2.5-flash'],
    ])
    for (let i = 0; i < 4; i++) await post(gw, GENERATE, userText('again'))
    const rows = vertex.requests.filter((r) => r.key === VERTEX_KEYS[0])
    expect(rows.every((r) => r.path.startsWith(BASE))).toBe(true)
    expect(gw.upstream.requests).toHaveLength(0)
    // MAX_FAILURES strikes disabled it; the scheduled re-check tries it at Vertex, not at BASE_URL.
    const before = vertex.requests.length
    const result = await gw.gateway.recheck.runNow()
    expect(result.checked).toBe(1)
    expect(vertex.requests.slice(before).map((r) => [r.key, r.model])).toEqual([[VERTEX_KEYS[0], 'gemini-2.5-flash-lite']])
    expect(gw.upstream.requests).toHaveLength(0)
  })
})

describe('vertex-express without VERTEX_API_KEYS', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [vertexExpress()] } })
  })
  afterAll(() => gw.close())

  it.each([
    ['POST', GENERATE],
    ['POST', '/vertex-express/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'],
    ['POST', '/vertex-express/v1beta/models/gemini-2.5-flash:countTokens'],
    ['GET', '/vertex-express/v1beta/models'],
    ['GET', '/vertex-express/v1beta/models/gemini-2.5-flash'],
  ])("%s %s answers 503 in Gemini's shape, and no Gemini API key is used", async (method, path) => {
    const res = await fetch(gw.url + path, {
      method,
      headers: { 'x-goog-api-key': TOKEN },
      body: method === 'POST' ? JSON.stringify(userText('x')) : undefined,
    })
    expect(res.status).toBe(503)
    const { error } = await res.json()
    expect(error).toMatchObject({ code: 503, status: 'UNAVAILABLE' })
    expect(error.message).toContain('VERTEX_API_KEYS')
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it("still checks the client's token first", async () => {
    expect((await fetch(gw.url + GENERATE, { method: 'POST', body: '{}' })).status).toBe(401)
  })
})
