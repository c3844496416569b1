import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { ApiError, GoogleGenAI } from '@google/genai'
import { createConsola } from 'consola'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadGatewayConfig } from '../../core/config/load.ts'
import { createGateway } from '../../core/gateway.ts'
import { KEYS, TOKEN, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import urlNormalization from './index.ts'
import { normalizeRequestPath } from './internal/normalize.ts'

/** `[method, path?query as the client sent it, where it lands (null: left alone)]` */
type Case = [method: string, input: string, expected: string | null]

const rewrite = (method: string, input: string): string | null => {
  const [path, query] = input.split(/(?=\?)/) as [string, string | undefined]
  const target = normalizeRequestPath(method, path, query ?? '')
  return target ? target.path + target.search : null
}

const CANONICAL: Case[] = [
  ['POST', '/v1beta/models/gemini-2.5-flash:generateContent', null],
  ['POST', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', null],
  ['POST', '/gemini/v1beta/models/gemini-2.5-flash:countTokens', null],
  ['POST', '/v1beta/models/text-embedding-004:batchEmbedContents', null],
  ['POST', '/vertex-express/v1beta/models/gemini-2.5-flash:generateContent', null],
  ['GET', '/v1beta/models?pageSize=50', null],
  ['GET', '/gemini/v1beta/models/gemini-2.5-pro', null],
  ['POST', '/v1/chat/completions', null],
  ['POST', '/hf/v1/chat/completions', null],
  ['POST', '/v1/embeddings', null],
  ['POST', '/v1/images/generations', null],
  ['POST', '/v1/audio/speech', null],
  ['GET', '/v1/models', null],
  ['GET', '/hf/v1/models/gemini-2.5-flash', null],
  ['POST', '/openai/v1/chat/completions', null],
  ['POST', '/openai/v1/embeddings', null],
  ['GET', '/openai/v1/models/gemini-2.5-flash', null],
  ['POST', '/v1/messages', null],
  ['POST', '/v1/messages/count_tokens', null],
  ['POST', '/v1/responses', null],
  // A canonical path is left alone even when its words would match a rule.
  ['GET', '/v1/responses/resp_chat_image_model', null],
  ['POST', '/v1/responses/resp_chat_1/cancel', null],
]

const PROTECTED: Case[] = [
  ['GET', '/health', null],
  ['GET', '/Health', null],
  ['GET', '/', null],
  ['POST', '/api/v1/chat/completions', null],
  ['GET', '/api/config/ui/models', null],
  ['GET', '/admin/v1beta/models', null],
  ['POST', '/auth', null],
  ['GET', '/keys', null],
  ['GET', '/config', null],
  ['GET', '/logs/v1/models', null],
  ['POST', '/upload/v1beta/files', null],
  ['POST', '/static/chat/completions', null],
]

const UNSAFE_OR_UNMAPPABLE: Case[] = [
  // Escapes (what h3 leaves encoded: separators, `%`), backslashes, dot segments.
  ['POST', '/v1beta/v1beta/models/a%2F..%2Fb:generateContent', null],
  ['POST', '/v1/v1%2Fchat/completions', null],
  ['POST', '/v1beta/models/x%5C:generateContent', null],
  ['POST', '/x/../v1/chat/completions', null],
  ['POST', '/v1/./chat/completions', null],
  ['POST', '/v1\\chat\\completions', null],
  // A model that is not a plain id goes nowhere.
  ['POST', '/v1beta/models?model=../../admin', null],
  ['POST', '/v1beta/models?model=a/b', null],
  ['POST', '/v1beta/models?model=gemini:x', null],
  ['POST', '/v1beta/models?model=.hidden', null],
  ['POST', '/v1beta/models?model=', null],
  ['GET', '/V1/models/bad:id', null],
  // Nothing to map it to: the router's 404 answers, in the dialect's shape.
  ['POST', '/v1beta/models', null],
  ['POST', '/generateContent', null],
  ['POST', '/v1beta/models/gemini-2.5-flash:predict', null],
  ['POST', '/v1/unknown', null],
  ['POST', '/openai/audio/speech', null],
  ['GET', '/v1/v1/chat/completions', null],
  ['GET', '/something/else', null],
  ['PUT', '/chat/completions', null],
  ['DELETE', '/V1/Models/gemini-2.5-flash', null],
  ['OPTIONS', '/chat/completions', null],
]

const NATIVE: Case[] = [
  // Model and stream flag in the query.
  ['POST', '/v1beta/models?model=gemini-2.5-flash&stream=true', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'],
  ['POST', '/v1beta/models?model=gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:generateContent'],
  ['POST', '/v1beta/models?model=models/gemini-2.5-pro&stream=TRUE', '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse'],
  ['POST', '/v1beta/models?model=gemini-2.5-flash&stream=false&key=sk-x', '/v1beta/models/gemini-2.5-flash:generateContent?key=sk-x'],
  ['POST', '/generateContent?model=gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:generateContent'],
  ['POST', '/stream/generatecontent?model=gemini-2.5-flash&alt=json', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=json'],
  ['POST', '/gemini/v1beta/models/gemini-2.5-flash?stream=true', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'],
  ['POST', '/v1beta/models/gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:generateContent'],
  // The query's model wins over the path's, as in gemini-balance.
  ['POST', '/V1beta/models/gemini-2.5-pro?model=gemini-2.5-flash', '/v1beta/models/gemini-2.5-flash:generateContent'],
  // Doubled prefixes (a base URL that already ends in /v1beta), wrong case; an explicit method is kept.
  ['POST', '/v1beta/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'],
  ['POST', '/v1beta/v1beta/models/gemini-2.5-flash:streamGenerateContent', '/v1beta/models/gemini-2.5-flash:streamGenerateContent'],
  ['POST', '/V1BETA/MODELS/gemini-2.5-flash:GENERATECONTENT', '/v1beta/models/gemini-2.5-flash:generateContent'],
  ['POST', '/gemini/v1beta/v1beta/models/gemini-2.5-flash:countTokens?key=sk-x', '/v1beta/models/gemini-2.5-flash:countTokens?key=sk-x'],
  ['POST', '/v1beta/models/models/text-embedding-004:embedContent', '/v1beta/models/text-embedding-004:embedContent'],
  ['POST', '/v1/models/gemini-2.5-flash:generateContent', '/v1beta/models/gemini-2.5-flash:generateContent'],
  ['POST', '/v1beta/models/gemini-2.5-flash/generateContent', '/v1beta/models/gemini-2.5-flash:generateContent'],
  // Reads.
  ['GET', '/v1beta/v1beta/models?pageSize=5', '/v1beta/models?pageSize=5'],
  ['GET', '/V1BETA/Models', '/v1beta/models'],
  ['GET', '/v1beta/v1beta/models/gemini-2.5-pro', '/v1beta/models/gemini-2.5-pro'],
  ['GET', '/v1beta/models/gemini-2.5-flash:generateContent', '/v1beta/models'],
  // Vertex Express keeps its prefix.
  ['POST', '/vertex-express/v1beta/v1beta/models/gemini-2.5-flash:generateContent', '/vertex-express/v1beta/models/gemini-2.5-flash:generateContent'],
  [
    'POST',
    '/vertex-express/generateContent?model=gemini-2.5-flash&stream=true',
    '/vertex-express/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
  ],
  ['GET', '/Vertex-Express/v1beta/models', '/vertex-express/v1beta/models'],
]

const OPENAI_LAYER: Case[] = [
  ['POST', '/v1beta/openai/chat/completions', '/openai/v1/chat/completions'],
  ['POST', '/openai/chat/completions', '/openai/v1/chat/completions'],
  ['POST', '/OpenAI/V1/Chat/Completions', '/openai/v1/chat/completions'],
  ['POST', '/openai/completions', '/openai/v1/chat/completions'],
  ['POST', '/openai/v1/v1/embeddings', '/openai/v1/embeddings'],
  ['POST', '/v1beta/openai/images/generations?x=1', '/openai/v1/images/generations?x=1'],
  ['GET', '/v1beta/openai/models', '/openai/v1/models'],
  ['GET', '/v1beta/openai/models/gemini-2.5-pro', '/openai/v1/models/gemini-2.5-pro'],
  ['GET', '/openai/model', '/openai/v1/models'],
]

const OPENAI_V1: Case[] = [
  ['POST', '/v1/v1/chat/completions', '/v1/chat/completions'],
  ['POST', '/V1/Chat/Completions', '/v1/chat/completions'],
  ['POST', '/v1/chat/completions/', '/v1/chat/completions'],
  ['POST', '/proxy/v1/chat/completions?trace=1', '/v1/chat/completions?trace=1'],
  ['POST', '/hf/v1/v1/images/generations', '/v1/images/generations'],
  ['POST', '/V1/Embeddings', '/v1/embeddings'],
  // The words after the last `/v1/` decide, not a prefix that happens to contain one.
  ['POST', '/my-chat-proxy/v1/embeddings', '/v1/embeddings'],
  ['POST', '/v1/v1/audio/speech', '/v1/audio/speech'],
  ['GET', '/v1/v1/models', '/v1/models'],
  ['GET', '/V1/Models/gemini-2.5-flash', '/v1/models/gemini-2.5-flash'],
]

const BARE: Case[] = [
  ['POST', '/chat/completions', '/v1/chat/completions'],
  ['POST', '/Chat/Completions', '/v1/chat/completions'],
  ['POST', '/v1beta/chat/completions', '/v1/chat/completions'],
  ['POST', '/hf/chat/completions', '/v1/chat/completions'],
  ['POST', '/embeddings', '/v1/embeddings'],
  ['POST', '/images/generations/', '/v1/images/generations'],
  ['POST', '/audio/speech', '/v1/audio/speech'],
  ['GET', '/models', '/v1/models'],
  ['GET', '/models/gemini-2.5-flash', '/v1/models/gemini-2.5-flash'],
  ['GET', '/models/a:b', null],
]

const TABLE = { CANONICAL, PROTECTED, UNSAFE_OR_UNMAPPABLE, NATIVE, OPENAI_LAYER, OPENAI_V1, BARE }

describe('normalizeRequestPath: gemini-balance §1.11, as a table', () => {
  for (const [group, cases] of Object.entries(TABLE)) {
    it.each(cases)(`${group}: %s %s → %s`, (method, input, expected) => {
      expect(rewrite(method, input)).toBe(expected)
    })
  }

  it('every rewrite lands on a canonical path (normalizing it again changes nothing) made of plain segments', () => {
    const rewritten = Object.values(TABLE)
      .flat()
      .filter(([, , expected]) => expected !== null)
    expect(rewritten.length).toBeGreaterThan(40)
    for (const [method, input] of rewritten) {
      const landed = rewrite(method, input)!
      expect(rewrite(method, landed), `${method} ${input} → ${landed}`).toBeNull()
      expect(landed.split('?')[0]).toMatch(/^(\/[A-Za-z0-9._:-]+)+$/)
      expect(landed).not.toMatch(/\.\.|%|\/\//)
    }
  })
})

describe('url-normalization through real HTTP (URL_NORMALIZATION_ENABLED=true, and unset)', () => {
  let on: Running
  let off: Running
  beforeAll(async () => {
    ;[on, off] = await Promise.all([
      startGateway({ env: { URL_NORMALIZATION_ENABLED: 'true' }, config: { plugins: [urlNormalization()] } }),
      startGateway({ config: { plugins: [urlNormalization()] } }),
    ])
  })
  afterAll(() => Promise.all([on?.close(), off?.close()]))
  beforeEach(() => {
    on.reset()
    off.reset()
  })

  const openai = (gw: Running, base: string) => new OpenAI({ apiKey: TOKEN, baseURL: gw.url + base, maxRetries: 0 })
  const genai = (gw: Running, base: string) => new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: gw.url + base } })
  const lastSeen = (gw: Running) => gw.upstream.requests.at(-1)!
  const native = (gw: Running, path: string, headers: Record<string, string> = { 'x-goog-api-key': TOKEN }) =>
    fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(userText('hi')) })

  it('OpenAI SDK with the bare server URL as base (`/chat/completions`): converted chat, stream and model list land', async () => {
    const client = openai(on, '')
    const answer = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'no prefix' }] })
    expect(answer.choices[0]!.message.content).toBe('Echo: no prefix')
    expect(lastSeen(on).path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(JSON.parse(lastSeen(on).body).contents).toEqual([{ role: 'user', parts: [{ text: 'no prefix' }] }])

    let text = ''
    for await (const chunk of await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'streamed' }],
      stream: true,
    })) {
      text += chunk.choices[0]?.delta?.content ?? ''
    }
    expect(text).toBe('Echo: streamed')
    expect(lastSeen(on).path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent')

    const ids: string[] = []
    for await (const model of client.models.list()) ids.push(model.id)
    expect(ids).toContain('gemini-2.5-flash')
  })

  it("OpenAI SDK with Google's own OpenAI base (`/v1beta/openai`): the pass-through gets the exact body", async () => {
    const client = openai(on, '/v1beta/openai')
    const answer = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'google base' }] })
    expect(answer.choices[0]!.message.content).toBe('Echo: google base')
    expect(lastSeen(on).path).toBe('/v1beta/openai/chat/completions')
    expect(JSON.parse(lastSeen(on).body)).toEqual({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'google base' }] })
    expect(KEYS.map((key) => `Bearer ${key}`)).toContain(lastSeen(on).headers.authorization)
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toContain('models/gemini-2.5-flash')
  })

  it('@google/genai with a base URL that already ends in /v1beta (doubled prefix): unary and stream land', async () => {
    const client = genai(on, '/v1beta')
    const answer = await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'doubled' })
    expect(answer.text).toBe('Echo: doubled')
    expect(lastSeen(on).path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')

    let text = ''
    for await (const chunk of await client.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'doubled stream' })) text += chunk.text ?? ''
    expect(text).toBe('Echo: doubled stream')
    expect(lastSeen(on).path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent')
    expect(lastSeen(on).query.alt).toBe('sse')
  })

  it('model and stream flag in the query: an SSE stream of the model named, the token from ?key= still accepted', async () => {
    const res = await native(on, `/v1beta/models?model=gemini-2.5-flash&stream=true&key=${TOKEN}`, {})
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const events = (await res.text()).split('\r\n\r\n').filter(Boolean)
    expect(events.length).toBeGreaterThan(0)
    expect(events.every((event) => event.startsWith('data: '))).toBe(true)
    expect(lastSeen(on).path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent')
    expect(lastSeen(on).query).not.toHaveProperty('model')
  })

  it('wrong case lands too', async () => {
    const res = await native(on, '/V1BETA/Models/gemini-2.5-flash:GenerateContent')
    expect(res.status).toBe(200)
    expect((await res.json()).candidates[0].content.parts[0].text).toBe('Echo: hi')
    expect(lastSeen(on).path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
  })

  it("with the variable unset the same calls get a 404 in the dialect's shape, and Google hears nothing", async () => {
    await expect(openai(off, '').chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 404,
    })
    await expect(
      openai(off, '/v1beta/openai').chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404 })
    const native404 = await genai(off, '/v1beta')
      .models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' })
      .catch((error: unknown) => error)
    expect(native404).toBeInstanceOf(ApiError)
    expect((native404 as ApiError).status).toBe(404)
    const queried = await native(off, '/v1beta/models?model=gemini-2.5-flash&stream=true')
    expect(queried.status).toBe(404)
    expect((await queried.json()).error).toMatchObject({ code: 404, status: 'NOT_FOUND' })
    expect(off.upstream.requests).toHaveLength(0)
    // The canonical path is what the plugin being listed changes nothing about.
    expect((await off.genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'canonical' })).text).toBe('Echo: canonical')
  })

  it("a rewritten request is authenticated by its target route: no token, a 401 in that route's shape", async () => {
    const openaiShaped = await fetch(`${on.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(openaiShaped.status).toBe(401)
    expect((await openaiShaped.json()).error).toHaveProperty('type')
    const geminiShaped = await native(on, '/v1beta/models?model=gemini-2.5-flash', { 'x-goog-api-key': 'sk-not-a-token' })
    expect(geminiShaped.status).toBe(401)
    expect((await geminiShaped.json()).error).toMatchObject({ code: 401 })
    expect(on.upstream.requests).toHaveLength(0)
  })

  it('no escape: bad model ids, encoded separators and dot segments are not rewritten; /health stays /health', async () => {
    for (const path of [
      '/v1beta/models?model=..%2F..%2Fhealth',
      '/v1beta/models?model=a%2Fb',
      '/v1beta/v1beta/models/a%2F..%2Fb:generateContent',
      '/v1/v1%2Fchat%2Fcompletions',
    ]) {
      const res = await native(on, path)
      expect(res.status, path).toBe(404)
    }
    expect(on.upstream.requests).toHaveLength(0)
    const health = await fetch(`${on.url}/health`)
    expect(await health.json()).toEqual({ status: 'healthy' })
  })

  it('canonical requests are untouched, and what the plugin costs them (printed, not asserted)', async () => {
    expect((await on.genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'canonical' })).text).toBe('Echo: canonical')
    expect(lastSeen(on).path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')

    // In-process requests to the same canonical route on both gateways, refused at auth so Google is not part of the
    // timing: the difference is the onRequest hook (the plugin's canonical check) and nothing else.
    const request = (gw: Running) => gw.gateway.app.request('/v1beta/models/gemini-2.5-flash:generateContent', { method: 'POST', body: '{}' })
    const time = async (gw: Running, n: number) => {
      const start = performance.now()
      for (let i = 0; i < n; i++) expect((await request(gw)).status).toBe(401)
      return ((performance.now() - start) * 1000) / n
    }
    await time(on, 500)
    await time(off, 500)
    const rounds = { on: [] as number[], off: [] as number[] }
    for (let round = 0; round < 5; round++) {
      rounds.on.push(await time(on, 1000))
      rounds.off.push(await time(off, 1000))
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

    const hook = (path: string, method = 'POST') => {
      const n = 200_000
      const start = performance.now()
      for (let i = 0; i < n; i++) normalizeRequestPath(method, path, '')
      return ((performance.now() - start) * 1e6) / n
    }
    const nanos = {
      native: hook('/v1beta/models/gemini-2.5-flash:streamGenerateContent'),
      openai: hook('/v1/chat/completions'),
      passthrough: hook('/openai/v1/chat/completions'),
      sloppy: hook('/v1beta/openai/chat/completions'),
    }
    console.log(
      `[url-normalization] canonical request in-process (401 at auth), median of 5×1000: on ${median(rounds.on).toFixed(1)} µs, ` +
        `off ${median(rounds.off).toFixed(1)} µs; normalizeRequestPath per call: native ${nanos.native.toFixed(0)} ns, ` +
        `/v1 ${nanos.openai.toFixed(0)} ns, /openai/v1 ${nanos.passthrough.toFixed(0)} ns, a sloppy path ${nanos.sloppy.toFixed(0)} ns`,
    )
  })
})

describe('url-normalization logging', () => {
  it('logs each rewrite at debug level with the original path (never the query, which may hold the token)', async () => {
    const lines: { type: string; tag: string; text: string }[] = []
    const logger = createConsola({ level: 4, reporters: [{ log: (entry) => lines.push({ type: entry.type, tag: entry.tag, text: entry.args.join(' ') }) }] })
    const dataDir = mkdtempSync(join(tmpdir(), 'gemgate-url-normalization-'))
    const { config } = await loadGatewayConfig({
      cwd: dataDir,
      dotenv: false,
      env: {
        API_KEYS: JSON.stringify(KEYS),
        ALLOWED_TOKENS: JSON.stringify([TOKEN]),
        DATA_DIR: dataDir,
        CHECK_INTERVAL_HOURS: '0',
        URL_NORMALIZATION_ENABLED: 'true',
      },
      overrides: { plugins: [urlNormalization()] },
    })
    const gateway = await createGateway(config, { logger })
    try {
      // Refused at auth (no token): nothing goes upstream, but the rewrite happened first.
      expect((await gateway.app.request('/Chat/Completions', { method: 'POST', body: '{}' })).status).toBe(401)
      expect((await gateway.app.request('/v1beta/models?model=gemini-2.5-flash&key=sk-wrong-secret', { method: 'POST', body: '{}' })).status).toBe(401)
      expect((await gateway.app.request('/v1/chat/completions', { method: 'POST', body: '{}' })).status).toBe(401)
      const rewrites = lines.filter((line) => line.tag.endsWith('url-normalization'))
      expect(rewrites).toEqual([
        { type: 'debug', tag: expect.any(String), text: 'POST /Chat/Completions → /v1/chat/completions' },
        { type: 'debug', tag: expect.any(String), text: 'POST /v1beta/models → /v1beta/models/gemini-2.5-flash:generateContent' },
      ])
      expect(lines.some((line) => line.text.includes('sk-wrong-secret'))).toBe(false)
    } finally {
      await gateway.close()
    }
  })
})
