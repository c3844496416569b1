import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { definePlugin } from '../../core/index.ts'
import { TOKEN, post, startGateway, userText, type Running } from './harness.ts'

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
/** A JSON body of `depth` levels in all: the body object, then arrays under one extra field. */
const bodyOfDepth = (fields: string, depth: number) => `{${fields},"deep":${nested(depth - 1)}}`

/** Every JSON route, with the fields its body needs to get past its decoder. */
const ROUTES: [name: string, path: string, fields: string][] = [
  ['native', '/v1beta/models/gemini-2.5-flash:generateContent', '"contents":[{"role":"user","parts":[{"text":"hi"}]}]'],
  ['openai', '/v1/chat/completions', '"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]'],
  ['openai embeddings', '/v1/embeddings', '"model":"gemini-embedding-001","input":"hi"'],
  ['anthropic', '/v1/messages', '"model":"gemini-2.5-flash","max_tokens":10,"messages":[{"role":"user","content":"hi"}]'],
  ['responses', '/v1/responses', '"model":"gemini-2.5-flash","input":"hi"'],
  ['openai pass-through', '/openai/v1/chat/completions', '"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]'],
]

describe('request bodies are bounded on every route', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { MAX_REQUEST_BODY_MB: '1' } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  const send = (path: string, body: string | Uint8Array | ReadableStream<Uint8Array>) =>
    fetch(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-api-key': TOKEN },
      body,
      duplex: 'half',
    } as RequestInit)
  const messageOf = async (res: Response) => {
    const body = await res.json()
    return String(body.error?.message ?? body[0]?.error?.message)
  }

  it.each(ROUTES)('%s: 128 levels pass, 129 are a 400 that says why, 100,000 a 400 too', async (_, path, fields) => {
    const fine = await send(path, bodyOfDepth(fields, 128))
    expect(await messageOf(fine)).not.toContain('nests deeper')
    expect(gw.upstream.requests).toHaveLength(1)

    const deep = await send(path, bodyOfDepth(fields, 129))
    expect(deep.status).toBe(400)
    expect(await messageOf(deep)).toContain('The JSON nests deeper than 128 levels.')

    const deepest = await send(path, bodyOfDepth(fields, 100_000))
    expect(deepest.status).toBe(400)
    expect(await messageOf(deepest)).toContain('nests deeper than 128 levels')
    expect(gw.upstream.requests).toHaveLength(1)
  })

  it('JSON inside a string (tool-call arguments) is held to the same depth: a 400, not a stack overflow', async () => {
    const toolTurn = (args: string) => ({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: args } }] },
        { role: 'tool', tool_call_id: 'call_1', content: `{"result":${nested(100_000)}}` },
      ],
    })
    const deep = await send('/v1/chat/completions', JSON.stringify(toolTurn(`{"a":${nested(100_000)}}`)))
    expect(deep.status).toBe(400)
    expect(await messageOf(deep)).toContain('the arguments nest deeper than 128 levels')

    // A tool result that deep is passed on as text instead (tool outputs are text to begin with).
    const fine = await send('/v1/chat/completions', JSON.stringify(toolTurn('{"a":1}')))
    expect(fine.status).toBe(200)
    const parts = JSON.parse(gw.upstream.requests.at(-1)!.body).contents[2].parts
    expect(typeof parts[0].functionResponse.response.output).toBe('string')

    const responses = await send(
      '/v1/responses',
      JSON.stringify({
        model: 'gemini-2.5-flash',
        input: [
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: `{"a":${nested(100_000)}}` },
          { type: 'function_call_output', call_id: 'c1', output: 'ok' },
        ],
      }),
    )
    expect(responses.status).toBe(400)
    expect(await messageOf(responses)).toContain('nests deeper than 128 levels')
  })

  it('a chunked body (no length given) is cut at MAX_REQUEST_BODY_MB', async () => {
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 4 * 1048576) return controller.close()
        sent += 65536
        controller.enqueue(new Uint8Array(65536).fill(0x20))
      },
    })
    const res = await send('/v1/chat/completions', stream)
    expect(res.status).toBe(413)
    // The rest of the body stays unread, so the connection closes instead of stalling the upload.
    expect(res.headers.get('connection')).toBe('close')
    expect(await messageOf(res)).toContain('MAX_REQUEST_BODY_MB')
  })

  it('a body that is not UTF-8 is a 400, inside a string or out, and nothing reaches Google', async () => {
    const bytes = (...pieces: (string | number[])[]) => new Uint8Array(Buffer.concat(pieces.map((p) => Buffer.from(p as string))))
    const inside = await send(
      '/v1beta/models/gemini-2.5-flash:generateContent',
      bytes('{"contents":[{"role":"user","parts":[{"text":"a', [0xff, 0xfe], 'b"}]}]}'),
    )
    expect(inside.status).toBe(400)
    expect(await messageOf(inside)).toContain('not valid UTF-8')
    const outside = await send('/v1beta/models/gemini-2.5-flash:generateContent', bytes('{"contents":[]', [0xff], '}'))
    expect(outside.status).toBe(400)
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('embeddings: 2,049 inputs are a 400 on "input" in OpenAI\'s shape, before any upstream call', async () => {
    const res = await send('/v1/embeddings', JSON.stringify({ model: 'gemini-embedding-001', input: Array.from({ length: 2049 }, (_, i) => `t${i}`) }))
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ param: 'input', type: 'invalid_request_error', message: expect.stringContaining('at most 2048') })
    expect(gw.upstream.requests).toHaveLength(0)
  })
})

describe('a model name a plugin rewrote is checked again before it goes into the upstream URL', () => {
  let gw: Running
  const rewrites = new Map<string, string>()
  const rewriter = definePlugin({
    name: 'rewriter',
    summary: 'test: rewrites models into bad ids',
    setup: () => ({
      transformRequest(request) {
        const target = rewrites.get(request.model)
        if (target !== undefined) request.upstreamModel = target
      },
      wrapUpstream: (call) => (attempt, ctx) => call(attempt.model === 'wrapped' ? { ...attempt, model: 'gemini-2.5-flash:generateContent?x=' } : attempt, ctx),
    }),
  })
  beforeAll(async () => {
    rewrites.set('gemini-2.5-flash', '../../files/secret')
    rewrites.set('gemini-2.5-pro', 'wrapped')
    rewrites.set('gemini-2.0-flash', 'gemini-2.5-flash-lite')
    gw = await startGateway({ config: { plugins: [rewriter()] } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it.each([
    ['transformRequest', '/v1beta/models/gemini-2.5-flash:generateContent'],
    ['wrapUpstream', '/v1beta/models/gemini-2.5-pro:generateContent'],
    ['transformRequest, OpenAI pass-through model lookup', '/openai/v1/models/gemini-2.5-flash'],
  ])('a bad id set by %s: a 500, and no call is made', async (_, path) => {
    const res = path.startsWith('/openai')
      ? await fetch(gw.url + path, { headers: { authorization: `Bearer ${TOKEN}` } })
      : await post(gw, path, userText('hi'))
    expect(res.status).toBe(500)
    expect(await res.text()).toContain('is not a valid model id; the call was not sent')
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('a good id set by a plugin goes through', async () => {
    const res = await post(gw, '/v1beta/models/gemini-2.0-flash:generateContent', userText('hi'))
    expect(res.status).toBe(200)
    expect(gw.upstream.requests.at(-1)!.model).toBe('gemini-2.5-flash-lite')
  })
})
