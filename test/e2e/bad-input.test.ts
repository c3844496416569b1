import { createServer, request as httpRequest, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PNG_BYTES, TOKEN, post, startGateway, userText, type Running } from './harness.ts'

/**
 * Hostile and broken input on every public route of every dialect. Each case must end in a clear 4xx in the shape its
 * API's clients read (never a 500, never a stack trace or a file path), cost no key anything, and leave the gateway
 * serving.
 */

type Shape = 'gemini' | 'openai' | 'anthropic' | 'passthrough'
type Json = Record<string, unknown>

const MODEL = 'gemini-2.5-flash'
const EMBED = 'gemini-embedding-001'
const chat = (text: string) => ({ model: MODEL, messages: [{ role: 'user', content: text }] })
const schemaWith = (value: unknown) => ({ type: 'object', properties: { v: value } })
/** A function call whose arguments carry `value`, as a model turn of a native conversation. */
const nativeCall = (value: unknown) => ({
  contents: [
    { role: 'user', parts: [{ text: 'hi' }] },
    { role: 'model', parts: [{ functionCall: { name: 'f', args: { v: value } } }] },
  ],
})

interface JsonRoute {
  path: string
  shape: Shape
  /** A valid request carrying the user text `text`. */
  body: (text: string) => Json
  /** Bodies with a value of the wrong JSON type. */
  wrongTypes: Json[]
  /** A valid request with `value` nested inside a field the dialect reads. */
  nesting: (value: unknown) => Json
}

const nativeRoutes = (prefix: string): JsonRoute[] => [
  ...[`${MODEL}:generateContent`, `${MODEL}:streamGenerateContent?alt=sse`, `${MODEL}:countTokens`].map((action) => ({
    path: `${prefix}/models/${action}`,
    shape: 'gemini' as const,
    body: userText,
    wrongTypes: [
      { contents: 5 },
      { contents: 'x' },
      { contents: [5] },
      { ...userText('x'), generationConfig: 'hot' },
      { ...userText('x'), systemInstruction: 7 },
    ],
    nesting: nativeCall,
  })),
  {
    path: `${prefix}/models/${EMBED}:embedContent`,
    shape: 'gemini',
    body: (text) => ({ content: { parts: [{ text }] } }),
    wrongTypes: [{ content: 5 }, { content: 'x' }, { content: { parts: [{ text: 'x' }] }, title: 5 }],
    nesting: (value) => ({ content: { parts: [{ functionCall: { name: 'f', args: { v: value } } }] } }),
  },
  {
    path: `${prefix}/models/${EMBED}:batchEmbedContents`,
    shape: 'gemini',
    body: (text) => ({ requests: [{ model: `models/${EMBED}`, content: { parts: [{ text }] } }] }),
    wrongTypes: [{ requests: 5 }, { requests: ['x'] }],
    nesting: (value) => ({ requests: [{ model: `models/${EMBED}`, content: { parts: [{ functionCall: { name: 'f', args: { v: value } } }] } }] }),
  },
]

const openaiRoutes = (prefix: string): JsonRoute[] => [
  {
    path: `${prefix}/chat/completions`,
    shape: 'openai',
    body: chat,
    wrongTypes: [
      { ...chat('x'), model: 123 },
      { model: MODEL, messages: 'x' },
      { model: MODEL, messages: [{ role: 'user', content: 5 }] },
      { ...chat('x'), temperature: 'hot' },
      { model: MODEL },
    ],
    nesting: (value) => ({ ...chat('hi'), tools: [{ type: 'function', function: { name: 'f', parameters: schemaWith(value) } }] }),
  },
  {
    path: `${prefix}/embeddings`,
    shape: 'openai',
    body: (text) => ({ model: EMBED, input: text }),
    wrongTypes: [
      { model: 123, input: 'x' },
      { model: EMBED, input: 5 },
      { model: EMBED, input: [{}] },
    ],
    nesting: (value) => ({ model: EMBED, input: 'hi', metadata: { v: value } }),
  },
  {
    path: `${prefix}/responses`,
    shape: 'openai',
    body: (text) => ({ model: MODEL, input: text }),
    wrongTypes: [
      { model: 123, input: 'x' },
      { model: MODEL, input: 5 },
      { model: MODEL, input: [5] },
    ],
    nesting: (value) => ({ model: MODEL, input: 'hi', tools: [{ type: 'function', name: 'f', parameters: schemaWith(value) }] }),
  },
]

const JSON_ROUTES: JsonRoute[] = [
  ...nativeRoutes('/v1beta'),
  ...nativeRoutes('/gemini/v1beta'),
  ...openaiRoutes('/v1'),
  ...openaiRoutes('/hf/v1'),
  {
    path: '/v1/messages',
    shape: 'anthropic',
    body: (text) => ({ ...chat(text), max_tokens: 64 }),
    wrongTypes: [
      { ...chat('x'), max_tokens: 64, model: 123 },
      { ...chat('x'), max_tokens: 'x' },
      { model: MODEL, max_tokens: 64, messages: 'x' },
      { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 5 }] },
    ],
    nesting: (value) => ({ ...chat('hi'), max_tokens: 64, tools: [{ name: 'f', input_schema: schemaWith(value) }] }),
  },
  {
    path: '/v1/messages/count_tokens',
    shape: 'anthropic',
    body: chat,
    wrongTypes: [
      { ...chat('x'), model: 123 },
      { model: MODEL, messages: 'x' },
    ],
    nesting: (value) => ({ ...chat('hi'), tools: [{ name: 'f', input_schema: schemaWith(value) }] }),
  },
  {
    path: '/openai/v1/chat/completions',
    shape: 'passthrough',
    body: chat,
    wrongTypes: [{ ...chat('x'), model: 123 }, { messages: [{ role: 'user', content: 'x' }] }],
    nesting: (value) => ({ ...chat('hi'), tools: [{ type: 'function', function: { name: 'f', parameters: schemaWith(value) } }] }),
  },
  {
    path: '/openai/v1/embeddings',
    shape: 'passthrough',
    body: (text) => ({ model: EMBED, input: text }),
    wrongTypes: [{ model: 123, input: 'x' }],
    nesting: (value) => ({ model: EMBED, input: 'hi', extra_body: { v: value } }),
  },
]

const GET_ROUTES: { path: string; shape: Shape }[] = [
  ...['/v1beta', '/gemini/v1beta'].flatMap((p) => [
    { path: `${p}/models`, shape: 'gemini' as const },
    { path: `${p}/models/${MODEL}`, shape: 'gemini' as const },
  ]),
  ...['/v1', '/hf/v1'].flatMap((p) => [
    { path: `${p}/models`, shape: 'openai' as const },
    { path: `${p}/models/${MODEL}`, shape: 'openai' as const },
  ]),
  { path: '/openai/v1/models', shape: 'passthrough' },
]

/** What a client of each API can read as an error. */
function expectErrorShape(shape: Shape, status: number, text: string, label: string): void {
  let body: any
  expect(() => (body = JSON.parse(text)), `${label}: not JSON: ${text.slice(0, 300)}`).not.toThrow()
  const google = (value: any) =>
    expect(value?.error, `${label}: ${text.slice(0, 300)}`).toMatchObject({ code: status, message: expect.any(String), status: expect.any(String) })
  const openai = (value: any) =>
    expect(value?.error, `${label}: ${text.slice(0, 300)}`).toMatchObject({ message: expect.any(String), type: expect.any(String) })
  if (shape === 'gemini') google(body)
  else if (shape === 'openai') openai(body)
  else if (shape === 'anthropic')
    expect(body, `${label}: ${text.slice(0, 300)}`).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } })
  else if (Array.isArray(body)) google(body[0]) // Google's own error, handed through
  else openai(body) // the gateway's own refusal
}

/** No "at fn (file:line:col)" frames, no paths of this machine, no module names. */
const LEAKED_INTERNALS = /\n\s*at\s|\bat\s[\w.<>$]+\s\(|file:\/\/|\/(?:work|home|root|usr|tmp|app|src)\/|node_modules|\.[cm]?[jt]s:\d+/

async function expectClean4xx(res: Response, shape: Shape, expected: number | number[], label: string): Promise<void> {
  const text = await res.text()
  const allowed = Array.isArray(expected) ? expected : [expected]
  expect(allowed, `${label}: HTTP ${res.status}: ${text.slice(0, 300)}`).toContain(res.status)
  expect(text, `${label}: internals in the body`).not.toMatch(LEAKED_INTERNALS)
  expectErrorShape(shape, res.status, text, label)
}

/** `{"a":{"a":...1}}`, `depth` objects deep, as text (the test never parses it). */
const nestedText = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
const withNested = (route: JsonRoute, depth: number) => JSON.stringify(route.nesting('__NESTED__')).replace('"__NESTED__"', nestedText(depth))

describe('bad input on every route', () => {
  let gw: Running
  let victim: CountingServer
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_REQUEST_BODY_MB: '1', MAX_RETRIES: '3' } })
    victim = await startCountingServer()
  })
  afterAll(async () => {
    await gw?.close()
    await victim?.close()
  })
  beforeEach(() => gw.reset())
  // After every case: no key lost anything, and a normal request still succeeds.
  afterEach(async () => {
    expectKeysUntouched(gw)
    expect((await post(gw, `/v1beta/models/${MODEL}:generateContent`, userText('still serving?'))).status).toBe(200)
  })

  const send = (path: string, body: string | Uint8Array | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
    fetch(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-api-key': TOKEN, ...headers },
      body,
      duplex: 'half',
    } as RequestInit)
  const upstreamCalls = () => gw.upstream.requests.length

  describe.each(JSON_ROUTES)('$path', (route) => {
    it('a valid request works (the baseline the cases break)', async () => {
      const res = await send(route.path, JSON.stringify(route.body('hello')))
      expect(res.status, await res.clone().text()).toBe(200)
    })

    it('malformed and truncated JSON: 400, nothing forwarded', async () => {
      const valid = JSON.stringify(route.body('hello'))
      for (const text of [
        '{',
        '{"a":',
        '{"contents": [',
        'not json',
        '{"a":1,}',
        "{'a':1}",
        '{"a":1} trailing',
        '[]',
        '"x"',
        '123',
        'null',
        valid.slice(0, valid.length / 2),
        valid.slice(0, -1),
      ]) {
        await expectClean4xx(await send(route.path, text), route.shape, 400, `body ${JSON.stringify(text.slice(0, 40))}`)
      }
      expect(upstreamCalls()).toBe(0)
    })

    it('values of the wrong type: 400', async () => {
      for (const body of route.wrongTypes) await expectClean4xx(await send(route.path, JSON.stringify(body)), route.shape, 400, JSON.stringify(body))
    })

    it('a body over MAX_REQUEST_BODY_MB, with a length or chunked: 413, nothing forwarded', async () => {
      const huge = JSON.stringify(route.body('a'.repeat(1_200_000)))
      await expectClean4xx(await send(route.path, huge), route.shape, 413, 'declared length')
      const bytes = new TextEncoder().encode(huge)
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 65_536) controller.enqueue(bytes.subarray(at, at + 65_536))
          controller.close()
        },
      })
      await expectClean4xx(await send(route.path, chunked), route.shape, 413, 'chunked')
      expect(upstreamCalls()).toBe(0)
    })

    it('nesting 200 and 100,000 levels deep: 400, nothing forwarded', async () => {
      for (const depth of [200, 100_000]) await expectClean4xx(await send(route.path, withNested(route, depth)), route.shape, 400, `${depth} levels`)
      expect(upstreamCalls()).toBe(0)
    })

    it('bytes that are not UTF-8 between JSON tokens: 400, nothing forwarded', async () => {
      const outside = Buffer.concat([Buffer.from('{'), Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(route.body('abcd')).slice(1))])
      await expectClean4xx(await send(route.path, outside), route.shape, 400, 'outside a string')
      expect(upstreamCalls()).toBe(0)
    })

    it('bytes that are not UTF-8 inside a string: 400, the text is not silently changed', async () => {
      const [before, after] = JSON.stringify(route.body('ab-HOLE-cd')).split('-HOLE-') as [string, string]
      const inside = Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(after)])
      await expectClean4xx(await send(route.path, inside), route.shape, 400, 'inside a string')
    })

    it('no token or a wrong one: 401, nothing forwarded', async () => {
      const body = JSON.stringify(route.body('hello'))
      const anonymous = await fetch(gw.url + route.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      await expectClean4xx(anonymous, route.shape, 401, 'no token')
      await expectClean4xx(await send(route.path, body, { authorization: 'Bearer sk-wrong', 'x-api-key': 'sk-wrong' }), route.shape, 401, 'wrong token')
      expect(upstreamCalls()).toBe(0)
    })
  })

  // One route of each dialect: the refusal must not wait for a body nobody will read.
  const TRICKLED = [
    '/v1beta/models/gemini-2.5-flash:generateContent',
    '/v1/chat/completions',
    '/v1/embeddings',
    '/v1/responses',
    '/v1/messages',
    '/openai/v1/chat/completions',
  ]
  describe.each(JSON_ROUTES.filter((route) => TRICKLED.includes(route.path)))('$path, body trickled', (route) => {
    it('without a token the 401 comes before the body is read (50 MB declared, and 512 KB, both trickled)', async () => {
      for (const declared of [50 * 1048576, 512 * 1024]) {
        const answer = await trickle(gw.url, route.path, declared)
        expect(answer.status, `${declared} bytes declared: no answer while the body was still coming (${answer.sent} bytes sent)`).toBe(401)
        expect(answer.sent).toBeLessThan(declared)
        expectErrorShape(route.shape, 401, answer.body, `${declared} bytes declared`)
      }
      expect(upstreamCalls()).toBe(0)
    })
  })

  describe.each(GET_ROUTES)('GET $path', ({ path, shape }) => {
    it('no token or a wrong one: 401, nothing forwarded', async () => {
      await expectClean4xx(await fetch(gw.url + path), shape, 401, 'no token')
      await expectClean4xx(await fetch(gw.url + path, { headers: { authorization: 'Bearer sk-wrong' } }), shape, 401, 'wrong token')
      expect(upstreamCalls()).toBe(0)
    })
  })

  it('unknown routes and methods: 404 or 405 in the shape of the API the path belongs to', async () => {
    const cases: [method: string, path: string, shape: Shape][] = [
      ['GET', '/v1beta/nothing', 'gemini'],
      ['DELETE', '/v1beta/models', 'gemini'],
      ['PUT', `/v1beta/models/${MODEL}:generateContent`, 'gemini'],
      ['POST', `/v1beta/models/${MODEL}:unknownAction`, 'gemini'],
      ['POST', `/gemini/v1beta/models/${MODEL}:predictLongRunning`, 'gemini'],
      ['GET', '/v2/anything', 'gemini'],
      ['GET', '/v1/chat/completions', 'openai'],
      ['DELETE', '/v1/embeddings', 'openai'],
      ['POST', '/v1/completions', 'openai'],
      ['POST', '/hf/v1/nothing', 'openai'],
      ['POST', '/openai/v1/nothing', 'openai'],
      ['GET', '/v1/messages', 'anthropic'],
      ['PUT', '/v1/messages', 'anthropic'],
      ['GET', '/v1/messages/count_tokens', 'anthropic'],
      ['POST', '/v1/messages/batches', 'anthropic'],
    ]
    for (const [method, path, shape] of cases) {
      const res = await fetch(gw.url + path, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(method === 'GET' ? {} : { body: '{}' }),
      })
      await expectClean4xx(res, shape, [404, 405], `${method} ${path}`)
    }
    expect(upstreamCalls()).toBe(0)
  })

  it('actions named after Object.prototype members are unknown actions, not crashes', async () => {
    for (const action of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
      await expectClean4xx(await post(gw, `/v1beta/models/${MODEL}:${action}`, userText('x')), 'gemini', [400, 404], `:${action}`)
    }
    expect(upstreamCalls()).toBe(0)
  })

  it('path tricks: encoded traversal, encoded slashes, NUL, double slashes never reach Google as a path', async () => {
    const posts = [
      `/v1beta/models/..%2F..%2Fx:generateContent`,
      `/v1beta/models/..%2f..%2ffiles:generateContent`,
      `/v1beta/models/a%2Fb:generateContent`,
      `/v1beta/models/%2e%2e:generateContent`,
      `/v1beta/models/${MODEL}%00:generateContent`,
      `/v1beta/models/${MODEL}%00x:generateContent`,
      `/v1beta/models/${MODEL}%3FgenerateContent`,
      `/v1beta//models/${MODEL}:generateContent`,
      `/v1beta/models//${MODEL}:generateContent`,
      `//v1beta/models/${MODEL}:generateContent`,
      `/gemini/v1beta/models/..%2F..%2Fx:streamGenerateContent?alt=sse`,
    ]
    for (const path of posts) await expectClean4xx(await post(gw, path, userText('x')), 'gemini', [400, 404], `POST ${path}`)
    const gets: [string, Shape][] = [
      ['/v1beta/models/..%2F..%2Fx', 'gemini'],
      ['/v1beta/models/a%2Fb', 'gemini'],
      [`/v1beta/models/${MODEL}%00`, 'gemini'],
      ['/v1/models/..%2F..%2Fx', 'openai'],
      ['/openai/v1/models/..%2F..%2Fx', 'passthrough'],
      ['/openai/v1/models/a%2Fb', 'passthrough'],
    ]
    for (const [path, shape] of gets) {
      await expectClean4xx(await fetch(gw.url + path, { headers: { authorization: `Bearer ${TOKEN}` } }), shape, [400, 404], `GET ${path}`)
    }
    expect(gw.upstream.requests.map((r) => r.path)).toEqual([])
  })

  const SPECIAL_MODELS = [
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'a'.repeat(100_000),
    '',
    'gemini-ü-2.5',
    '模型',
    '🚀',
    '../../files/x',
    'models/',
    ' gemini-2.5-flash',
  ]

  it('special model names in the native path: 4xx (or a clean 431 for an over-long URL), Google asked at most about the plain ones', async () => {
    for (const model of SPECIAL_MODELS) {
      const label = `model ${JSON.stringify(model.slice(0, 20))}`
      const res = await post(gw, `/v1beta/models/${encodeURIComponent(model)}:generateContent`, userText('x'))
      if (res.status === 431) expect(await res.text(), label).toBe('')
      else await expectClean4xx(res, 'gemini', [400, 404], label)
      if (model === '') continue // GET /v1beta/models/ is the model list
      const got = await fetch(`${gw.url}/v1beta/models/${encodeURIComponent(model)}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      if (got.status === 431) expect(await got.text(), label).toBe('')
      else await expectClean4xx(got, 'gemini', [400, 404], `GET ${label}`)
    }
    for (const r of gw.upstream.requests) expect(r.path).toMatch(/^\/v1beta\/models\/[A-Za-z0-9][\w.-]*(:generateContent)?$/)
  })

  it('special model names in bodies: 4xx in each dialect, Google asked at most about the plain ones', async () => {
    const routes = JSON_ROUTES.filter((r) => !r.path.includes('/models/'))
    for (const route of routes) {
      for (const model of SPECIAL_MODELS) {
        const res = await send(route.path, JSON.stringify({ ...route.body('x'), model }))
        await expectClean4xx(res, route.shape, [400, 404], `${route.path} model ${JSON.stringify(model.slice(0, 20))}`)
      }
    }
    // A model in a pass-through body is Google's to judge; a model the gateway puts in a URL path must be a plain id.
    for (const r of gw.upstream.requests) expect(r.path).toMatch(/^\/v1beta\/(models\/[A-Za-z0-9][\w.-]*:\w+|openai\/[\w/]+)$/)
  })

  it('prototype keys in a body pollute nothing and crash nothing', async () => {
    for (const route of JSON_ROUTES) {
      for (const text of [
        `{"__proto__":{"polluted":true},${JSON.stringify(route.body('x')).slice(1)}`,
        `{"constructor":{"prototype":{"polluted":true}},${JSON.stringify(route.body('x')).slice(1)}`,
      ]) {
        const res = await send(route.path, text)
        expect(res.status, `${route.path}: ${await res.clone().text()}`).toBeLessThan(500)
        expect(await res.text()).not.toMatch(LEAKED_INTERNALS)
        expect(({} as Json).polluted).toBeUndefined()
      }
    }
  })

  it('a 64 KB header: a clean 431 or 400 from the server, and it keeps serving', async () => {
    for (const path of ['/v1beta/models', `/v1/chat/completions`, '/v1/messages']) {
      const status = await rawRequest(gw.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Big: ${'a'.repeat(65_536)}\r\n\r\n{}`)
      expect([400, 431], `${path}: status line ${status}`).toContain(status)
    }
  })

  /** Every field of every dialect through which a client makes the gateway fetch a URL. */
  const FETCHING_FIELDS: { name: string; path: string; shape: Shape; body: (url: string) => Json }[] = [
    {
      name: 'OpenAI image_url',
      path: '/v1/chat/completions',
      shape: 'openai',
      body: (url) => ({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'look' },
              { type: 'image_url', image_url: { url } },
            ],
          },
        ],
      }),
    },
    {
      name: 'OpenAI image_url (/hf/v1)',
      path: '/hf/v1/chat/completions',
      shape: 'openai',
      body: (url) => ({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: url }] }] }),
    },
    {
      name: 'OpenAI video_url',
      path: '/v1/chat/completions',
      shape: 'openai',
      body: (url) => ({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url } }] }] }),
    },
    {
      name: 'OpenAI file.file_url',
      path: '/v1/chat/completions',
      shape: 'openai',
      body: (url) => ({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'file', file: { file_url: url } }] }] }),
    },
    {
      name: 'OpenAI file.file_data (a URL)',
      path: '/v1/chat/completions',
      shape: 'openai',
      body: (url) => ({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: url } }] }] }),
    },
    {
      name: 'Anthropic image url',
      path: '/v1/messages',
      shape: 'anthropic',
      body: (url) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url } }] }] }),
    },
    {
      name: 'Anthropic document url',
      path: '/v1/messages',
      shape: 'anthropic',
      body: (url) => ({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url } }] }] }),
    },
    {
      name: 'Anthropic count_tokens image url',
      path: '/v1/messages/count_tokens',
      shape: 'anthropic',
      body: (url) => ({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url } }] }] }),
    },
    {
      name: 'Responses input_image',
      path: '/v1/responses',
      shape: 'openai',
      body: (url) => ({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_image', image_url: url }] }] }),
    },
    {
      name: 'Responses input_file',
      path: '/v1/responses',
      shape: 'openai',
      body: (url) => ({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_file', file_url: url }] }] }),
    },
  ]
  /** Targets inside the machine or its network, in the spellings that have slipped past SSRF guards elsewhere. */
  const targets = () => [
    `http://127.0.0.1:${victim.port}/cat.png`,
    `http://[::1]:${victim.port}/cat.png`,
    `http://localhost:${victim.port}/cat.png`,
    `http://[::ffff:127.0.0.1]:${victim.port}/cat.png`,
    `http://[::ffff:7f00:1]:${victim.port}/cat.png`,
    `http://[64:ff9b::7f00:1]:${victim.port}/cat.png`,
    `http://[::127.0.0.1]:${victim.port}/cat.png`,
    `http://0.0.0.0:${victim.port}/cat.png`,
    `http://127.1:${victim.port}/cat.png`,
    `http://2130706433:${victim.port}/cat.png`,
    `http://0x7f000001:${victim.port}/cat.png`,
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://10.0.0.1/cat.png',
    'http://192.168.0.1/cat.png',
  ]

  describe.each(FETCHING_FIELDS)('SSRF through $name', (field) => {
    it('every internal target: 400 that says the address is refused, no connection, nothing forwarded', async () => {
      for (const url of targets()) {
        victim.reset()
        const res = await send(field.path, JSON.stringify(field.body(url)))
        const text = await res.clone().text()
        await expectClean4xx(res, field.shape, 400, url)
        expect(text, `${url}: the client should learn the address is refused`).toMatch(/refus|private|not allowed|forbidden|blocked/i)
        expect(victim.connections(), `${url}: connections to the loopback server`).toBe(0)
      }
      expect(upstreamCalls()).toBe(0)
    })
  })

  it('URLs Google reads itself (native fileData.fileUri, the pass-through layer) are forwarded as they are, never fetched by the gateway', async () => {
    victim.reset()
    const url = `http://127.0.0.1:${victim.port}/cat.png`
    const native = await post(gw, `/v1beta/models/${MODEL}:generateContent`, {
      contents: [{ role: 'user', parts: [{ text: 'look' }, { fileData: { mimeType: 'image/png', fileUri: url } }] }],
    })
    expect(native.status).toBe(200)
    const passthrough = await send(
      '/openai/v1/chat/completions',
      JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] }),
    )
    expect(passthrough.status).toBe(200)
    expect(victim.connections()).toBe(0)
    expect(gw.upstream.requests.map((r) => r.body.includes(url))).toEqual([true, true])
  })
})

describe('too many media URLs in one request', () => {
  let gw: Running
  let host: CountingServer
  beforeAll(async () => {
    // Private targets allowed, so that only the count can refuse the request.
    gw = await startGateway({ env: { MEDIA_FETCH_ALLOW_PRIVATE: 'true' } })
    host = await startCountingServer()
  })
  afterAll(async () => {
    await gw?.close()
    await host?.close()
  })
  beforeEach(() => {
    gw.reset()
    host.reset()
  })
  afterEach(async () => {
    expectKeysUntouched(gw)
    expect((await post(gw, `/v1beta/models/${MODEL}:generateContent`, userText('still serving?'))).status).toBe(200)
  })

  const images = (n: number) => Array.from({ length: n }, (_, i) => `http://127.0.0.1:${host.port}/cat.png?i=${i}`)
  const cases: { path: string; shape: Shape; body: (urls: string[]) => Json }[] = [
    {
      path: '/v1/chat/completions',
      shape: 'openai',
      body: (urls) => ({ model: MODEL, messages: [{ role: 'user', content: urls.map((url) => ({ type: 'image_url', image_url: { url } })) }] }),
    },
    {
      path: '/v1/messages',
      shape: 'anthropic',
      body: (urls) => ({
        model: MODEL,
        max_tokens: 64,
        messages: [{ role: 'user', content: urls.map((url) => ({ type: 'image', source: { type: 'url', url } })) }],
      }),
    },
    {
      path: '/v1/responses',
      shape: 'openai',
      body: (urls) => ({ model: MODEL, input: [{ role: 'user', content: urls.map((url) => ({ type: 'input_image', image_url: url })) }] }),
    },
  ]

  it.each(cases)('$path: 33 URLs are a 400 before anything is fetched; 32 are fetched and answered', async ({ path, shape, body }) => {
    const send = (urls: string[]) =>
      fetch(gw.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-api-key': TOKEN },
        body: JSON.stringify(body(urls)),
      })
    await expectClean4xx(await send(images(33)), shape, 400, '33 URLs')
    expect(host.connections()).toBe(0)
    expect(gw.upstream.requests).toHaveLength(0)
    const fine = await send(images(32))
    expect(fine.status, await fine.clone().text()).toBe(200)
    expect(host.hits()).toBe(32)
  })
})

function expectKeysUntouched(gw: Running): void {
  const pool = gw.gateway.pool
  expect(pool.disabledKeys().map((key) => key.label)).toEqual([])
  for (const key of pool.keys) {
    const health = pool.health(key)
    expect({ key: key.label, strikes: health.strikes, cooldowns: Object.keys(health.cooldowns) }).toEqual({ key: key.label, strikes: 0, cooldowns: [] })
  }
}

interface CountingServer {
  port: number
  /** TCP connections accepted, on 127.0.0.1 and [::1] together. */
  connections(): number
  /** Requests for the image. */
  hits(): number
  reset(): void
  close(): Promise<void>
}

/** An image host on loopback (IPv4 and IPv6, one port) that counts every connection made to it. */
async function startCountingServer(): Promise<CountingServer> {
  let connections = 0
  let hits = 0
  const handler = (_req: unknown, res: import('node:http').ServerResponse) => {
    hits++
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG_BYTES.length }).end(PNG_BYTES)
  }
  const v4 = createServer(handler).on('connection', () => void connections++)
  await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve))
  const port = (v4.address() as AddressInfo).port
  const v6 = createServer(handler).on('connection', () => void connections++)
  await new Promise<void>((resolve, reject) => v6.once('error', reject).listen(port, '::1', resolve))
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return {
    port,
    connections: () => connections,
    hits: () => hits,
    reset: () => void (connections = hits = 0),
    close: async () => void (await Promise.all([close(v4), close(v6)])),
  }
}

/**
 * POSTs without a credential, declaring `declared` bytes and sending them slowly (16 KB, then 1 KB every 20 ms):
 * the answer must come while the body is still on its way.
 */
function trickle(origin: string, path: string, declared: number): Promise<{ status?: number; sent: number; body: string }> {
  const url = new URL(path, origin)
  return new Promise((resolve) => {
    let sent = 0
    let timer: NodeJS.Timeout | undefined
    const finish = (result: { status?: number; body: string }) => {
      clearInterval(timer)
      clearTimeout(deadline)
      req.destroy()
      resolve({ ...result, sent })
    }
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': declared } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString() }))
      res.on('error', () => finish({ status: res.statusCode, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', () => finish({ body: '' }))
    const write = (size: number) => {
      const piece = Math.min(size, declared - sent)
      if (piece <= 0) return
      sent += piece
      req.write(Buffer.alloc(piece, 0x20))
    }
    write(16 * 1024)
    timer = setInterval(() => write(1024), 20)
    const deadline = setTimeout(() => finish({ body: '' }), 2000)
  })
}

/** Sends raw bytes and returns the status code of the first response line (0 when the server only closed). */
function rawRequest(origin: string, text: string): Promise<number> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve) => {
    let received = ''
    const socket = connect(Number(port), hostname, () => socket.write(text))
    socket.setEncoding('latin1')
    socket.on('data', (data: string) => (received += data))
    socket.on('error', () => {})
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0)))
    setTimeout(() => socket.destroy(), 3000)
  })
}
