import { ApiError } from '@google/genai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, userText, type Running } from './harness.ts'

/** Every native route through the official @google/genai SDK, against the fake upstream. */
describe('native Gemini API', () => {
  let gw: Running
  beforeAll(async () => {
    // A lenient fake: the first test sends an unknown top-level field to prove the body is forwarded byte for byte.
    gw = await startGateway({ upstream: { strictRequests: false } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.upstream.reset())

  it('generateContent: the answer arrives intact and the upstream saw the exact body with a pool key', async () => {
    const body = {
      contents: [{ role: 'user', parts: [{ text: 'Hello gateway' }] }],
      generationConfig: { maxOutputTokens: 64, someFutureField: { x: 1 } },
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
      unknownTopLevel: true,
    }
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', body)
    expect(res.status).toBe(200)
    const answer = await res.json()
    expect(answer.candidates[0].content.parts[0].text).toBe('Echo: Hello gateway')
    expect(answer.usageMetadata.promptTokenCount).toBe(2)
    const seen = gw.upstream.requests.at(-1)!
    expect(seen.body).toBe(JSON.stringify(body))
    expect(KEYS).toContain(seen.key)
    expect(seen.headers['x-goog-api-key']).toBe(seen.key)
    expect(seen.query.key).toBeUndefined()
  })

  it('the SDK: generateContent, stream, countTokens, embedContent, models.list and models.get', async () => {
    const ai = gw.genai()
    const one = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'ping' })
    expect(one.text).toBe('Echo: ping')
    expect(one.usageMetadata?.totalTokenCount).toBeGreaterThan(0)

    let streamed = ''
    let chunks = 0
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'stream me please' })) {
      streamed += chunk.text ?? ''
      chunks++
    }
    expect(streamed).toBe('Echo: stream me please')
    expect(chunks).toBe(3)

    const counted = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'one two three' })
    expect(counted.totalTokens).toBe(3)

    const embedded = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['alpha', 'beta'], config: { outputDimensionality: 4 } })
    expect(embedded.embeddings).toHaveLength(2)
    expect(embedded.embeddings![0]!.values).toHaveLength(4)

    const names: string[] = []
    for await (const model of await ai.models.list({ config: { pageSize: 5 } })) names.push(model.name!)
    expect(names).toContain('models/gemini-2.5-flash')
    expect(names).not.toContain('models/chat-bison-001') // FILTERED_MODELS default
    expect(new Set(names).size).toBe(names.length)

    const model = await ai.models.get({ model: 'gemini-2.5-pro' })
    expect(model.displayName).toBe('Gemini 2.5 Pro')
  })

  it('both prefixes serve, and every credential form works', async () => {
    const path = '/gemini/v1beta/models/gemini-2.5-flash:generateContent'
    for (const [suffix, headers] of [
      [`?key=${TOKEN}`, {}],
      ['', { 'x-goog-api-key': TOKEN }],
      ['', { authorization: `Bearer ${TOKEN}` }],
    ] as const) {
      const res = await fetch(gw.url + path + suffix, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(userText('hi')),
      })
      expect(res.status).toBe(200)
    }
  })

  it('countTokens forwards the whole request (generateContentRequest with system instruction and tools)', async () => {
    const body = {
      generateContentRequest: {
        model: 'models/gemini-2.5-flash',
        contents: [{ role: 'user', parts: [{ text: 'one two' }] }],
        systemInstruction: { parts: [{ text: 'three four five' }] },
      },
    }
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash:countTokens', body)
    expect(await res.json()).toMatchObject({ totalTokens: 5 })
    expect(gw.upstream.requests.at(-1)!.body).toBe(JSON.stringify(body))
  })

  it('batchEmbedContents passes every request through', async () => {
    const body = {
      requests: ['a b', 'c'].map((text) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] }, taskType: 'RETRIEVAL_QUERY' })),
    }
    const res = await post(gw, '/v1beta/models/gemini-embedding-001:batchEmbedContents', body)
    expect(res.status).toBe(200)
    expect((await res.json()).embeddings).toHaveLength(2)
  })

  it("streams without alt=sse as Google's JSON array", async () => {
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash:streamGenerateContent', userText('array form'))
    expect(res.headers.get('content-type')).toContain('application/json')
    const chunks = JSON.parse(await res.text())
    expect(chunks).toHaveLength(3)
    expect(chunks.map((c: any) => c.candidates[0].content.parts[0].text).join('')).toBe('Echo: array form')
    expect(chunks.at(-1).candidates[0].finishReason).toBe('STOP')
  })

  it('keeps every part and thought signature in both directions', async () => {
    const parts = [
      { text: 'thinking...', thought: true, thoughtSignature: 'c2lnLTE=' },
      { functionCall: { name: 'sum', args: { a: 1 }, id: 'x1' }, thoughtSignature: 'c2lnLTI=' },
      { executableCode: { language: 'PYTHON', code: 'print(1)' } },
      { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1\n' } },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
    ]
    gw.upstream.script(KEYS[0]!, {
      json: { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], modelVersion: 'gemini-3-flash-preview' },
    })
    gw.upstream.script(KEYS[1]!, {
      json: { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], modelVersion: 'gemini-3-flash-preview' },
    })
    gw.upstream.script(KEYS[2]!, {
      json: { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], modelVersion: 'gemini-3-flash-preview' },
    })
    const request = {
      contents: [
        { role: 'user', parts: [{ text: 'go' }] },
        { role: 'model', parts },
        { role: 'user', parts: [{ functionResponse: { name: 'sum', id: 'x1', response: { r: 1 } } }] },
      ],
    }
    const res = await post(gw, '/v1beta/models/gemini-3-flash-preview:generateContent', request)
    expect((await res.json()).candidates[0].content.parts).toEqual(parts)
    expect(JSON.parse(gw.upstream.requests.at(-1)!.body)).toEqual(request)
  })

  it('injects no generation defaults and keeps client safety settings when SAFETY_SETTINGS is not forced', async () => {
    await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('plain'))
    expect(JSON.parse(gw.upstream.requests.at(-1)!.body)).toEqual(userText('plain'))
  })

  it("answers 401 in Google's shape for a bad or missing token, without calling upstream", async () => {
    const bad = gw.genai('sk-wrong')
    const error = await bad.models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(401)
    const res = await fetch(`${gw.url}/v1beta/models`)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } })
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('rejects bad JSON, bad model names and unknown methods with 400/404 and keeps serving', async () => {
    const badJson = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', '{"contents": [')
    expect(badJson.status).toBe(400)
    expect((await badJson.json()).error.message).toContain('Invalid JSON payload')
    const badModel = await post(gw, '/v1beta/models/..%2F..%2Ffiles:generateContent', userText('x'))
    expect(badModel.status).toBe(400)
    const badMethod = await post(gw, '/v1beta/models/gemini-2.5-flash:explode', userText('x'))
    expect(badMethod.status).toBe(404)
    const filtered = await post(gw, '/v1beta/models/chat-bison-001:generateContent', userText('x'))
    expect(filtered.status).toBe(404)
    expect(gw.upstream.requests).toHaveLength(0)
    expect((await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('still here'))).status).toBe(200)
  })

  it("passes Google's errors through with their status and body (a 404 stays a 404, no retry)", async () => {
    const res = await post(gw, '/v1beta/models/no-such-model:generateContent', userText('x'))
    expect(res.status).toBe(404)
    const body = await res.json()
    expect(body.error.status).toBe('NOT_FOUND')
    expect(body.error.message).toContain('is not found for API version v1beta')
    expect(gw.upstream.requests).toHaveLength(1)
    const bad = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('x'))
    expect(bad.status).toBe(200)
  })

  it('GET /health answers without auth', async () => {
    const res = await fetch(`${gw.url}/health`)
    expect(await res.json()).toEqual({ status: 'healthy' })
  })
})

describe('browser clients', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway()
  })
  afterAll(() => gw.close())

  it('answers CORS preflights and marks answers readable from any origin', async () => {
    const preflight = await fetch(`${gw.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'OPTIONS',
      headers: { origin: 'https://chat.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-goog-api-key, content-type' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-headers')).toBe('x-goog-api-key, content-type')
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('hi'), { origin: 'https://chat.example' })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const denied = await fetch(`${gw.url}/v1beta/models`, { headers: { origin: 'https://chat.example' } })
    expect(denied.status).toBe(401)
    expect(denied.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('limits and cancellation', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_REQUEST_BODY_MB: '1' } })
  })
  afterAll(() => gw.close())

  it('a body over MAX_REQUEST_BODY_MB gets 413 before any upstream call', async () => {
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('x'.repeat(1_100_000)))
    expect(res.status).toBe(413)
    expect((await res.json()).error.message).toContain('MAX_REQUEST_BODY_MB')
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('a client that gives up while Google is still thinking cancels the call, logged as client-cancelled, no retry', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'slow', { slowMs: 3000 })
    // Only this request's rows: the refusals of the tests before it are logged too.
    await gw.gateway.logs.flush()
    const { rows: last = [] } = await gw.gateway.database.db.sql`SELECT COALESCE(MAX(id), 0) AS id FROM request_logs`
    const before = Number(last[0]?.id ?? 0)
    const started = Date.now()
    const error = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('never mind'), {}, AbortSignal.timeout(300)).catch((e) => e)
    expect(error.name).toBe('TimeoutError')
    await new Promise((r) => setTimeout(r, 300))
    await gw.gateway.logs.flush()
    const { rows } = await gw.gateway.database.db.sql`SELECT failure_class FROM request_logs WHERE id > ${before}`
    expect(rows).toEqual([{ failure_class: 'client-cancelled' }])
    expect(gw.upstream.requests).toHaveLength(1)
    expect(Date.now() - started).toBeLessThan(2000)
    for (const key of gw.gateway.pool.keys) expect(gw.gateway.pool.health(key)).toEqual({ strikes: 0, cooldowns: {} })
  })
})
