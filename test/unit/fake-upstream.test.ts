import { ApiError, GoogleGenAI } from '@google/genai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MODELS, compactJson, startFakeUpstream } from '../fake-upstream/index.ts'
import type { Behaviour, FakeUpstream } from '../fake-upstream/index.ts'

let fake: FakeUpstream
const KEY = 'test-key'
const userBody = (text: string, extra: Record<string, unknown> = {}) => JSON.stringify({ contents: [{ role: 'user', parts: [{ text }] }], ...extra })

/** `key` null: no x-goog-api-key header at all. */
function post(path: string, body: string, key: string | null = KEY, query = ''): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (key !== null) headers['x-goog-api-key'] = key
  return fetch(`${fake.url}/${path}${query}`, { method: 'POST', headers, body })
}
const generate = (body = userBody('hello world'), key: string | null = KEY) => post('models/gemini-2.5-flash:generateContent', body, key)
const stream = (body = userBody('hello world'), key = KEY, alt = '?alt=sse') => post('models/gemini-2.5-flash:streamGenerateContent', body, key, alt)

/** Splits an SSE body into its JSON payloads, checking Google's exact framing on the way. */
function sseEvents(text: string): Record<string, any>[] {
  if (text === '') return []
  expect(text.endsWith('\r\n\r\n')).toBe(true)
  return text
    .slice(0, -4)
    .split('\r\n\r\n')
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true)
      const json = event.slice('data: '.length)
      expect(json).not.toMatch(/[\r\n]/)
      const parsed = JSON.parse(json)
      expect(json).toBe(compactJson(parsed)) // `": "` after keys, `","` between members, nothing else
      return parsed
    })
}

beforeAll(async () => {
  fake = await startFakeUpstream()
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

describe('wire format', () => {
  it('frames SSE chunks byte-exactly, usage cumulative, finishReason only last', async () => {
    const res = await stream(userBody('the quick brown fox'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('content-disposition')).toBe('attachment')
    expect(res.headers.get('content-length')).toBeNull()
    const text = await res.text()
    expect(text.startsWith('data: {"candidates": [{"content": {"parts": [{"text": "')).toBe(true)
    expect(text).toContain('"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 4,')
    const events = sseEvents(text)
    expect(events).toHaveLength(3)
    expect(events.map((e) => e.candidates[0].content.parts[0].text).join('')).toBe('Echo: the quick brown fox')
    const ids = new Set(events.map((e) => e.responseId))
    expect(ids.size).toBe(1)
    let previous = 0
    events.forEach((event, i) => {
      expect(event.modelVersion).toBe('gemini-2.5-flash')
      expect(event.usageMetadata.promptTokenCount).toBe(4)
      expect(event.usageMetadata.candidatesTokenCount).toBeGreaterThanOrEqual(previous)
      previous = event.usageMetadata.candidatesTokenCount
      expect(event.candidates[0].finishReason).toBe(i === events.length - 1 ? 'STOP' : undefined)
    })
    expect(events.at(-1)!.usageMetadata).toEqual({
      promptTokenCount: 4,
      candidatesTokenCount: 5,
      totalTokenCount: 9,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: 4 }],
    })
  })

  it('streams a JSON array without alt=sse', async () => {
    const res = await stream(userBody('a b c'), KEY, '')
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8')
    const text = await res.text()
    expect(text.startsWith('[{\n  "candidates": [\n')).toBe(true)
    expect(text.split('\n}\n,\n{\n')).toHaveLength(3)
    expect(text.endsWith('\n}\n]')).toBe(true)
    const items = JSON.parse(text) as any[]
    expect(items.map((i) => i.candidates[0].content.parts[0].text).join('')).toBe('Echo: a b c')
  })

  it('answers generateContent with a pretty body, escaped <>, trailing newline', async () => {
    const body = userBody('hi <b>', { systemInstruction: { parts: [{ text: 'be brief' }] } })
    const res = await generate(body)
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8')
    const text = await res.text()
    const json = JSON.parse(text)
    expect(text).toBe(JSON.stringify(json, null, 2).replace('<', '\\u003c').replace('>', '\\u003e') + '\n')
    expect(Object.keys(json)).toEqual(['candidates', 'usageMetadata', 'modelVersion', 'responseId'])
    expect(json.candidates[0]).toEqual({
      content: { parts: [{ text: 'Echo: hi <b>' }], role: 'model' },
      finishReason: 'STOP',
      index: 0,
    })
    expect(json.usageMetadata.promptTokenCount).toBe(4) // "hi <b>" + "be brief"
    expect(json.responseId).toMatch(/^[\w-]{20,}$/)
  })

  it('paginates models.list and serves models.get', async () => {
    const names: string[] = []
    let token: string | undefined
    let pages = 0
    do {
      const res = await fetch(`${fake.url}/models?pageSize=5&key=${KEY}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`)
      const page = (await res.json()) as { models: { name: string }[]; nextPageToken?: string }
      names.push(...page.models.map((m) => m.name))
      token = page.nextPageToken
      pages++
    } while (token)
    expect(pages).toBe(Math.ceil(MODELS.length / 5))
    expect(names).toEqual(MODELS.map((m) => m.name))
    const all = (await (await fetch(`${fake.url}/models?key=${KEY}`)).json()) as Record<string, unknown>
    expect(Object.keys(all)).toEqual(['models']) // default page size 50, no token on the last page
    const one = await fetch(`${fake.url}/models/gemini-2.5-flash?key=${KEY}`)
    expect(((await one.json()) as { displayName: string }).displayName).toBe('Gemini 2.5 Flash')
    expect((await fetch(`${fake.url}/models/nope?key=${KEY}`)).status).toBe(404)
  })

  it('counts tokens over everything, embeds deterministically, validates batch models', async () => {
    const count = async (body: unknown) => (await (await post('models/gemini-2.5-flash:countTokens', JSON.stringify(body))).json()) as { totalTokens: number }
    expect((await count({ contents: [{ parts: [{ text: 'one two three' }] }] })).totalTokens).toBe(3)
    const gcr = {
      model: 'models/gemini-2.5-flash',
      contents: [{ parts: [{ text: 'one two three' }] }],
      systemInstruction: { parts: [{ text: 'four five' }] },
      tools: [{ functionDeclarations: [{ name: 'six', description: 'seven eight' }] }],
    }
    expect((await count({ generateContentRequest: gcr })).totalTokens).toBe(8)

    const embed = async () =>
      (await (
        await post('models/gemini-embedding-001:embedContent', JSON.stringify({ content: { parts: [{ text: 'x' }] }, outputDimensionality: 16 }))
      ).json()) as { embedding: { values: number[] } }
    const first = await embed()
    expect(first.embedding.values).toHaveLength(16)
    expect((await embed()).embedding.values).toEqual(first.embedding.values)

    const batch = (model: string) =>
      post('models/gemini-embedding-001:batchEmbedContents', JSON.stringify({ requests: [{ model, content: { parts: [{ text: 'a' }] } }] }))
    const ok = (await (await batch('models/gemini-embedding-001')).json()) as { embeddings: { values: number[] }[] }
    expect(ok.embeddings[0]!.values).toHaveLength(8)
    expect((await batch('models/text-embedding-004')).status).toBe(400)
  })

  it('answers unknown, retired and unsupported models, bad JSON, missing key and unknown routes like Google', async () => {
    const unknown = await post('models/no-such-model:generateContent', userBody('x'))
    expect(unknown.status).toBe(404)
    const body = (await unknown.json()) as any
    expect(body.error.message).toBe(
      'models/no-such-model is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
    )
    expect(body.error.details[0]['@type']).toBe('type.googleapis.com/google.rpc.DebugInfo')
    const retired = (await (await post('models/gemini-1.5-flash:generateContent', userBody('x'))).json()) as any
    expect(retired.error.message).toBe(
      'This model models/gemini-1.5-flash is no longer available to new users. Please update your code to use models/gemini-2.5-flash.',
    )
    expect((await post('models/gemini-embedding-001:generateContent', userBody('x'))).status).toBe(404)
    const bad = await generate('{"contents": [')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as any).error.message).toMatch(/^Invalid JSON payload received\./)
    const missing = await generate(userBody('x'), null)
    expect(missing.status).toBe(403)
    expect(((await missing.json()) as any).error.message).toMatch(/^Method doesn't allow unregistered callers/)
    const route = await fetch(`${fake.origin}/v1beta/tunedModels?key=${KEY}`)
    expect(route.status).toBe(404)
    expect(((await route.json()) as any).error.status).toBe('NOT_FOUND')
  })
})

describe('behaviours', () => {
  const cases: [Behaviour, number, string, string[]][] = [
    ['invalid-key', 400, 'INVALID_ARGUMENT', ['ErrorInfo', 'LocalizedMessage']],
    ['suspended', 403, 'PERMISSION_DENIED', ['ErrorInfo']],
    ['leaked', 403, 'PERMISSION_DENIED', []],
    ['service-disabled', 403, 'PERMISSION_DENIED', ['Help', 'ErrorInfo']],
    ['rate-minute', 429, 'RESOURCE_EXHAUSTED', ['QuotaFailure', 'Help', 'RetryInfo']],
    ['rate-day', 429, 'RESOURCE_EXHAUSTED', ['Help', 'QuotaFailure', 'RetryInfo']],
    ['rate-bare', 429, 'RESOURCE_EXHAUSTED', []],
    ['rate-tokens', 429, 'RESOURCE_EXHAUSTED', ['QuotaFailure', 'Help', 'RetryInfo']],
    ['internal', 500, 'INTERNAL', []],
    ['overloaded', 503, 'UNAVAILABLE', []],
    ['deadline', 504, 'DEADLINE_EXCEEDED', []],
    ['location', 400, 'FAILED_PRECONDITION', []],
  ]
  it.each(cases)('%s → %i %s', async (behaviour, status, grpc, detailTypes) => {
    fake.setBehaviour(KEY, behaviour)
    const res = await generate()
    expect(res.status).toBe(status)
    const text = await res.text()
    expect(text.endsWith('}\n')).toBe(true)
    const { error } = JSON.parse(text)
    expect(error.code).toBe(status)
    expect(error.status).toBe(grpc)
    expect((error.details ?? []).map((d: any) => d['@type'].split('.').at(-1))).toEqual(detailTypes)
  })

  it('429s carry QuotaFailure quotaId and RetryInfo retryDelay', async () => {
    fake.setBehaviour(KEY, 'rate-minute', { retryDelaySeconds: 7 })
    const minute = ((await (await generate()).json()) as any).error
    expect(minute.details[0].violations[0].quotaId).toBe('GenerateRequestsPerMinutePerProjectPerModel-FreeTier')
    expect(minute.details[0].violations[0].quotaDimensions.model).toBe('gemini-2.5-flash')
    expect(minute.details[2].retryDelay).toBe('7s')
    fake.setBehaviour(KEY, 'rate-day')
    const day = ((await (await generate()).json()) as any).error
    expect(day.message.endsWith('Please retry in 38.90923309s.')).toBe(true)
    expect(day.details[1].violations[0].quotaId).toBe('GenerateRequestsPerDayPerProjectPerModel-FreeTier')
    expect(day.details[2].retryDelay).toBe('38s')
    fake.setBehaviour(KEY, 'rate-tokens')
    const tokens = ((await (await generate()).json()) as any).error
    expect(tokens.details[0].violations[0].quotaId).toBe('GenerateContentInputTokensPerModelPerMinute-FreeTier')
  })

  it('sends errors on streams as pretty JSON with text/event-stream, or inside the JSON array', async () => {
    fake.setBehaviour(KEY, 'overloaded')
    const sse = await stream()
    expect(sse.status).toBe(503)
    expect(sse.headers.get('content-type')).toBe('text/event-stream')
    const text = await sse.text()
    expect(text.startsWith('{\n  "error": {\n    "code": 503,')).toBe(true)
    expect(text.endsWith('}\n')).toBe(true)
    const array = await stream(undefined, KEY, '')
    const arrayText = await array.text()
    expect(arrayText.startsWith('[{\n  "error": {')).toBe(true)
    expect((JSON.parse(arrayText) as any[])[0].error.code).toBe(503)
  })

  it('applies `times`, then falls back to the permanent setting', async () => {
    fake.setBehaviour(KEY, 'internal', { times: 2 })
    fake.setBehaviour('other', 'leaked')
    expect((await generate()).status).toBe(500)
    expect((await generate(undefined, 'other')).status).toBe(403)
    expect((await generate()).status).toBe(500)
    expect((await generate()).status).toBe(200)
    fake.setBehaviour(KEY, 'overloaded')
    fake.setBehaviour(KEY, 'rate-bare', { times: 1 })
    expect((await generate()).status).toBe(429)
    expect((await generate()).status).toBe(503)
    fake.setDefaultBehaviour('deadline')
    expect((await generate(undefined, 'fresh')).status).toBe(504)
  })

  it('empty, blocked and truncated-stream shape successful answers', async () => {
    fake.setBehaviour(KEY, 'empty')
    const empty = (await (await generate()).json()) as any
    expect(empty.candidates[0]).toEqual({ content: { role: 'model' }, finishReason: 'STOP', index: 0 })
    const emptyStream = await stream()
    expect(emptyStream.status).toBe(200)
    expect(await emptyStream.text()).toBe('')
    fake.setBehaviour(KEY, 'blocked')
    const blocked = (await (await generate()).json()) as any
    expect(blocked.candidates).toBeUndefined()
    expect(blocked.promptFeedback.blockReason).toBe('SAFETY')
    const blockedEvents = sseEvents(await (await stream()).text())
    expect(blockedEvents).toHaveLength(1)
    expect(blockedEvents[0]!.promptFeedback.blockReason).toBe('SAFETY')
    fake.setBehaviour(KEY, 'truncated-stream')
    const truncated = sseEvents(await (await stream()).text())
    expect(truncated.length).toBeGreaterThan(0)
    expect(truncated.some((e) => e.candidates[0].finishReason !== undefined)).toBe(false)
  })

  it('slow waits before headers; reset-before-headers drops the connection', async () => {
    fake.setBehaviour(KEY, 'slow', { slowMs: 300, times: 1 })
    const start = performance.now()
    expect((await generate()).status).toBe(200)
    expect(performance.now() - start).toBeGreaterThanOrEqual(290)
    fake.setBehaviour(KEY, 'reset-before-headers', { times: 1 })
    await expect(generate()).rejects.toThrow()
    expect((await generate()).status).toBe(200)
  })

  it('reset-mid-stream: the reader errors after the first chunk; unary bodies are cut in half', async () => {
    fake.setBehaviour(KEY, 'reset-mid-stream')
    const res = await stream()
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let received = ''
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return undefined
        received += decoder.decode(value, { stream: true })
      }
    })().catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(Error)
    expect(received.split('\r\n\r\n').filter(Boolean)).toHaveLength(1)
    expect(received.startsWith('data: {"candidates"')).toBe(true)
    const unary = await generate()
    await expect(unary.text()).rejects.toThrow()
  })
})

describe('scripts and recording', () => {
  it('answers scripts verbatim (unary, SSE, JSON array, error on stream) with `times`', async () => {
    fake.script(KEY, { status: 200, json: { hello: 'world' }, headers: { 'x-extra': '1' } }, { times: 1 })
    const unary = await generate()
    expect(unary.headers.get('x-extra')).toBe('1')
    expect(await unary.text()).toBe('{\n  "hello": "world"\n}\n')
    expect((await generate()).status).toBe(200) // back to ok
    expect(((await (await generate()).json()) as any).candidates).toBeDefined()

    fake.script(KEY, { chunks: [{ a: 1, b: [1, 2] }, 'not json'] })
    expect(await (await stream()).text()).toBe('data: {"a": 1,"b": [1,2]}\r\n\r\ndata: not json\r\n\r\n')
    expect(await (await stream(undefined, KEY, '')).text()).toBe('[{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}\n,\nnot json\n]')

    fake.script(KEY, { status: 429, json: { error: { code: 429, message: 'x', status: 'RESOURCE_EXHAUSTED' } } })
    const failed = await stream()
    expect(failed.status).toBe(429)
    expect(failed.headers.get('content-type')).toBe('text/event-stream')
    expect(JSON.parse(await failed.text()).error.code).toBe(429)
  })

  it('records every request with key, model, action, query, headers and body', async () => {
    const body = userBody('recorded')
    await post('models/gemini-2.5-flash:streamGenerateContent', body, null, `?alt=sse&key=query-key`)
    await generate(body)
    await fetch(`${fake.url}/openai/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer bearer-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(fake.requests).toHaveLength(3)
    const [first, second, third] = fake.requests
    expect(first).toMatchObject({
      method: 'POST',
      path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      query: { alt: 'sse', key: 'query-key' },
      key: 'query-key',
      model: 'gemini-2.5-flash',
      action: 'streamGenerateContent',
      body,
    })
    expect(second).toMatchObject({ key: KEY, action: 'generateContent' })
    expect(second!.headers['x-goog-api-key']).toBe(KEY)
    expect(third).toMatchObject({ key: 'bearer-key', model: 'gemini-2.5-flash', action: 'chat/completions' })
    fake.reset()
    expect(fake.requests).toHaveLength(0)
  })

  it('serves a minimal OpenAI-compatible chat.completions (unary, stream, array-wrapped errors)', async () => {
    const call = (body: unknown, key = 'k') =>
      fetch(`${fake.url}/openai/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const messages = [{ role: 'user', content: 'hello there' }]
    const unary = (await (await call({ model: 'gemini-2.5-flash', messages })).json()) as any
    expect(unary.object).toBe('chat.completion')
    expect(unary.choices[0].message.content).toBe('Echo: hello there')
    const streamed = await (await call({ model: 'gemini-2.5-flash', messages, stream: true })).text()
    expect(streamed.endsWith('data: [DONE]\n\n')).toBe(true)
    fake.setBehaviour('k', 'rate-bare', { times: 1 })
    const error = await call({ model: 'gemini-2.5-flash', messages })
    expect(error.status).toBe(429)
    expect(((await error.json()) as any[])[0].error.status).toBe('RESOURCE_EXHAUSTED')
  })
})

describe('lifecycle', () => {
  it('close() does not hang with an open stream', async () => {
    const slow = await startFakeUpstream({ streamChunks: 50, chunkIntervalMs: 1000, latencyMs: 5 })
    const res = await fetch(`${slow.url}/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=k`, {
      method: 'POST',
      body: userBody('a long answer'),
    })
    const reader = res.body!.getReader()
    expect((await reader.read()).done).toBe(false)
    const start = performance.now()
    await slow.close()
    expect(performance.now() - start).toBeLessThan(1000)
    await expect(reader.read()).rejects.toThrow()
    await slow.close() // idempotent
  })

  it('survives clients disconnecting during latency, slow, upload and mid-stream', async () => {
    const paced = await startFakeUpstream({ streamChunks: 20, chunkIntervalMs: 10, latencyMs: 200 })
    const target = `${paced.url}/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=k`
    try {
      // during latency
      await expect(fetch(target, { method: 'POST', body: userBody('x'), signal: AbortSignal.timeout(20) })).rejects.toThrow()
      // during 'slow'
      paced.setBehaviour('k', 'slow', { slowMs: 2000, times: 1 })
      await expect(fetch(target, { method: 'POST', body: userBody('x'), signal: AbortSignal.timeout(400) })).rejects.toThrow()
      // mid-stream
      const controller = new AbortController()
      const res = await fetch(target, { method: 'POST', body: userBody('abort me'), signal: controller.signal })
      const reader = res.body!.getReader()
      await reader.read()
      controller.abort()
      // mid-upload: a body stream that never ends
      const upload = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"contents": [')) })
      const uploadAbort = AbortSignal.timeout(50)
      await expect(fetch(target, { method: 'POST', body: upload, duplex: 'half', signal: uploadAbort } as RequestInit)).rejects.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 100))
      const after = await fetch(target, { method: 'POST', body: userBody('still alive') })
      expect(sseEvents(await after.text())).toHaveLength(20)
    } finally {
      await paced.close()
    }
  })

  it('honours chunkIntervalMs and latencyMs', async () => {
    const paced = await startFakeUpstream({ streamChunks: 4, chunkIntervalMs: 50, latencyMs: 60 })
    try {
      const start = performance.now()
      const res = await fetch(`${paced.url}/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=k`, {
        method: 'POST',
        body: userBody('one two three four five six'),
      })
      expect(performance.now() - start).toBeGreaterThanOrEqual(55)
      expect(sseEvents(await res.text())).toHaveLength(4)
      expect(performance.now() - start).toBeGreaterThanOrEqual(55 + 3 * 45)
    } finally {
      await paced.close()
    }
  })
})

describe('the official @google/genai SDK talks to it directly', () => {
  const sdk = () => new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.origin } })

  it('generateContent, generateContentStream, countTokens', async () => {
    const ai = sdk()
    const answer = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'ping pong' })
    expect(answer.text).toBe('Echo: ping pong')
    expect(answer.usageMetadata?.promptTokenCount).toBe(2)
    let streamed = ''
    let finish: string | undefined
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'streamed words here' })) {
      streamed += chunk.text ?? ''
      finish = chunk.candidates?.[0]?.finishReason ?? finish
    }
    expect(streamed).toBe('Echo: streamed words here')
    expect(finish).toBe('STOP')
    const counted = await ai.models.countTokens({ model: 'gemini-2.5-flash', contents: 'one two three' })
    expect(counted.totalTokens).toBe(3)
  })

  it('embedContent and models.list', async () => {
    const ai = sdk()
    const embedded = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['first text', 'second text'],
      config: { outputDimensionality: 4 },
    })
    expect(embedded.embeddings).toHaveLength(2)
    expect(embedded.embeddings![0]!.values).toHaveLength(4)
    const names: string[] = []
    for await (const model of await ai.models.list({ config: { pageSize: 4 } })) names.push(model.name!)
    expect(names).toEqual(MODELS.map((m) => m.name))
  })

  it('surfaces the fake errors as ApiError with the right status', async () => {
    fake.setBehaviour(KEY, 'rate-minute', { times: 1 })
    const error = await sdk()
      .models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(429)
    expect((error as ApiError).message).toContain('GenerateRequestsPerMinutePerProjectPerModel-FreeTier')
  })
})
