import Anthropic, { APIError } from '@anthropic-ai/sdk'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseToolUseId } from '../../core/dialects/anthropic/tool-ids.ts'
import { KEYS, PNG_BYTES as PNG, TOKEN, startGateway, startImageServer, type ImageServer, type Running } from './harness.ts'

/** The Anthropic Messages API through the official @anthropic-ai/sdk, against the fake upstream. */

const MODEL = 'gemini-2.5-flash'

const usage = (prompt: number, candidates: number, thoughts = 0) => ({
  promptTokenCount: prompt,
  candidatesTokenCount: candidates,
  totalTokenCount: prompt + candidates + thoughts,
  ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
})
const chunk = (parts: unknown[], finishReason?: string, u = usage(7, 3)) => ({
  candidates: [{ content: { parts, role: 'model' }, ...(finishReason ? { finishReason } : {}), index: 0 }],
  usageMetadata: u,
  modelVersion: MODEL,
  responseId: 'resp-e2e',
})

describe('Anthropic Messages API', () => {
  let gw: Running
  let media: ImageServer

  beforeAll(async () => {
    gw = await startGateway({ env: { MEDIA_FETCH_ALLOW_PRIVATE: 'true' } })
    media = await startImageServer()
  })
  afterAll(async () => {
    await media.close()
    await gw.close()
  })
  beforeEach(() => {
    gw.reset()
    media.resetHits()
  })

  const client = (options: ConstructorParameters<typeof Anthropic>[0] = {}) => new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0, ...options })
  const scriptAll = (answer: { json?: unknown; chunks?: unknown[]; status?: number }) => {
    for (const key of KEYS) gw.upstream.script(key, answer)
  }
  const lastUpstream = () => {
    const seen = gw.upstream.requests.at(-1)!
    return { ...seen, json: JSON.parse(seen.body) }
  }

  it('messages.create: text answer in Anthropic shape; the upstream saw the mapped body with a pool key', async () => {
    const message = await client().messages.create({
      model: MODEL,
      max_tokens: 256,
      system: 'You are terse.',
      stop_sequences: ['END'],
      metadata: { user_id: 'someone' },
      messages: [{ role: 'user', content: 'Hello gateway' }],
      ...({ temperature: 0.5, top_k: 20 } as object),
    })
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: 'Echo: Hello gateway' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 3, cache_read_input_tokens: 0 },
    })
    expect(message.id).toMatch(/^msg_/)
    expect(message._request_id).toMatch(/^req_/)
    const seen = lastUpstream()
    expect(seen.action).toBe('generateContent')
    expect(KEYS).toContain(seen.key)
    expect(seen.json).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hello gateway' }] }],
      systemInstruction: { parts: [{ text: 'You are terse.' }] },
      generationConfig: { maxOutputTokens: 256, temperature: 0.5, topK: 20, stopSequences: ['END'] },
    })
  })

  it('stream: the .stream() helper gets text deltas and a final message; events come in Anthropic order', async () => {
    const stream = client().messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'stream me please' }] })
    let text = ''
    stream.on('text', (delta) => (text += delta))
    const final = await stream.finalMessage()
    expect(text).toBe('Echo: stream me please')
    expect(final).toMatchObject({
      model: MODEL,
      content: [{ type: 'text', text: 'Echo: stream me please' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 3, output_tokens: 4 },
    })
    expect(lastUpstream().action).toBe('streamGenerateContent')

    const raw = await client().messages.create({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'raw events' }] })
    const types: string[] = []
    for await (const event of raw) types.push(event.type)
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
  })

  it('thinking: budget → thinkingConfig; thought summaries stream as a thinking block before the text', async () => {
    scriptAll({
      chunks: [
        chunk([{ text: 'Considering the question.', thought: true }], undefined, usage(4, 0, 12)),
        chunk([{ text: 'Mountain ' }], undefined, usage(4, 1, 12)),
        chunk([{ text: 'View', thoughtSignature: 'c2lnLXRleHQ=' }], 'STOP', usage(4, 2, 12)),
      ],
    })
    const final = await client()
      .messages.stream({
        model: MODEL,
        max_tokens: 4096,
        thinking: { type: 'enabled', budget_tokens: 2048 },
        messages: [{ role: 'user', content: 'Where is Google?' }],
      })
      .finalMessage()
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'Considering the question.', signature: '' },
      { type: 'text', text: 'Mountain View' },
      { type: 'thinking', thinking: '', signature: 'c2lnLXRleHQ=' },
    ])
    expect(final.usage).toMatchObject({ input_tokens: 4, output_tokens: 14 })
    expect(lastUpstream().json.generationConfig).toEqual({ maxOutputTokens: 4096, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } })

    // The client sends the turn back as it got it: the text keeps its signature upstream.
    gw.upstream.reset()
    await client().messages.create({
      model: MODEL,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [
        { role: 'user', content: 'Where is Google?' },
        { role: 'assistant', content: final.content as any },
        { role: 'user', content: 'Thanks' },
      ],
    })
    expect(lastUpstream().json.contents[1]).toEqual({
      role: 'model',
      parts: [
        { text: 'Considering the question.', thought: true },
        { text: 'Mountain View', thoughtSignature: 'c2lnLXRleHQ=' },
      ],
    })
  })

  it('tools: multi-turn tool use keeps call ids and thought signatures across turns (non-stream and stream)', async () => {
    const tools = [
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ]
    const signature = 'EukBCuYBAb4+9vt/vxxSqnu1O2VmsspptIIuZ5UI1XKt5qIGVw+l6Wp8gHTOskqE5v3VzNm9'
    scriptAll({
      json: {
        candidates: [
          {
            content: {
              parts: [
                { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: '3ae8iwca' }, thoughtSignature: signature },
                { functionCall: { name: 'get_weather', args: { city: 'Rome' }, id: 'up3kf30e' } },
              ],
              role: 'model',
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: usage(20, 16, 45),
        modelVersion: MODEL,
        responseId: 'tools-1',
      },
    })
    const question = { role: 'user' as const, content: 'Weather in Paris and Rome?' }
    const first = await client().messages.create({ model: MODEL, max_tokens: 512, tools, tool_choice: { type: 'auto' }, messages: [question] })
    expect(first.stop_reason).toBe('tool_use')
    const uses = first.content.filter((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock[]
    expect(uses.map((u) => [u.name, u.input])).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_weather', { city: 'Rome' }],
    ])
    expect(uses.every((u) => /^[A-Za-z0-9_-]+$/.test(u.id))).toBe(true)
    expect(lastUpstream().json.tools).toEqual([
      { functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: tools[0]!.input_schema }] },
    ])
    expect(lastUpstream().json.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } })

    gw.upstream.reset()
    const second = await client().messages.create({
      model: MODEL,
      max_tokens: 512,
      tools,
      messages: [
        question,
        { role: 'assistant', content: first.content as any },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: uses[0]!.id, content: '18C, sunny' },
            { type: 'tool_result', tool_use_id: uses[1]!.id, content: [{ type: 'text', text: '21C' }] },
          ],
        },
      ],
    })
    expect(second.content).toEqual([{ type: 'text', text: 'Echo: Weather in Paris and Rome?' }]) // the fake echoes the last user text
    expect(lastUpstream().json.contents.slice(1)).toEqual([
      {
        role: 'model',
        parts: [
          { functionCall: { id: '3ae8iwca', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: signature },
          { functionCall: { id: 'up3kf30e', name: 'get_weather', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { id: '3ae8iwca', name: 'get_weather', response: { output: '18C, sunny' } } },
          { functionResponse: { id: 'up3kf30e', name: 'get_weather', response: { output: '21C' } } },
        ],
      },
    ])

    // Streamed, the tool input arrives as input_json_delta and the SDK assembles it.
    scriptAll({
      chunks: [
        chunk([{ functionCall: { name: 'get_weather', args: { city: 'Oslo' }, id: 'k9x2m1qa' }, thoughtSignature: signature }]),
        chunk([{ text: '' }], 'STOP'),
      ],
    })
    const streamed = await client()
      .messages.stream({ model: MODEL, max_tokens: 512, tools, messages: [question] })
      .finalMessage()
    expect(streamed.stop_reason).toBe('tool_use')
    const use = streamed.content[0] as Anthropic.ToolUseBlock
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } })
    expect(parseToolUseId(use.id)).toEqual({ callId: 'k9x2m1qa', thoughtSignature: signature })
  })

  it('count_tokens counts messages, system and tools through a generateContentRequest', async () => {
    const counted = await client().messages.countTokens({
      model: MODEL,
      system: 'Be kind.',
      messages: [{ role: 'user', content: 'one two three' }],
      tools: [{ name: 'lookup', description: 'look it up', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
    })
    const seen = lastUpstream()
    expect(seen.action).toBe('countTokens')
    expect(seen.json.generateContentRequest).toMatchObject({
      model: `models/${MODEL}`,
      contents: [{ role: 'user', parts: [{ text: 'one two three' }] }],
      systemInstruction: { parts: [{ text: 'Be kind.' }] },
    })
    expect(seen.json.generateContentRequest.tools[0].functionDeclarations[0].name).toBe('lookup')
    expect(counted.input_tokens).toBeGreaterThan(5) // text words + the words inside the tool declaration
  })

  it('image URLs are fetched after auth, never before; base64 images go inline', async () => {
    const content = [
      { type: 'image' as const, source: { type: 'url' as const, url: media.url() } },
      { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: PNG.toString('base64') } },
      { type: 'text' as const, text: 'Describe' },
    ]
    const refused = await client({ apiKey: 'wrong-token' })
      .messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content }] })
      .catch((e) => e)
    expect(refused).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(media.hits()).toBe(0)

    await client().messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content }] })
    expect(media.hits()).toBe(1)
    expect(lastUpstream().json.contents[0].parts).toEqual([
      { inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } },
      { inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } },
      { text: 'Describe' },
    ])
  })

  it('auth: x-api-key or Authorization: Bearer', async () => {
    const bearer = new Anthropic({ authToken: TOKEN, baseURL: gw.url, maxRetries: 0 })
    const message = await bearer.messages.create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'bearer' }] })
    expect(message.content).toEqual([{ type: 'text', text: 'Echo: bearer' }])
    expect(gw.upstream.requests.at(-1)!.headers['authorization']).toBeUndefined()
  })

  it('errors by status in Anthropic shape: 401, 400 naming the field, 404, 429 with retry-after, 503 overloaded', async () => {
    const fail = (c: Anthropic, body: any): Promise<APIError> =>
      c.messages.create(body).then(
        () => {
          throw new Error('the request should fail')
        },
        (e: unknown) => e as APIError,
      )

    const unauthorized = await fail(client({ apiKey: 'nope' }), { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] })
    expect(unauthorized).toBeInstanceOf(Anthropic.AuthenticationError)
    expect(unauthorized.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })

    const invalid = await fail(client(), {
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] }],
    })
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError)
    expect(invalid.error).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'messages.0.content.0.source.data: Field required' } })
    expect(gw.upstream.requests).toHaveLength(0)

    const missing = await fail(client(), { model: 'gemini-0-nonexistent', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] })
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError)
    expect(missing.type).toBe('not_found_error')
    expect(missing.apiMessage).toMatch(/not found/i)

    gw.upstream.setDefaultBehaviour('rate-minute')
    const limited = await fail(client(), { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] })
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError)
    expect(limited.type).toBe('rate_limit_error')
    expect(Number(limited.headers!.get('retry-after'))).toBeGreaterThan(0)

    gw.reset()
    gw.upstream.setDefaultBehaviour('overloaded')
    const overloaded = await fail(client(), { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] })
    expect(overloaded.status).toBe(503)
    expect(overloaded.type).toBe('overloaded_error')
  })

  it('a stream that breaks after the first event ends with an error event the SDK raises, never a clean stop', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'reset-mid-stream')
    const stream = client().messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'break this stream please' }] })
    let text = ''
    stream.on('text', (delta) => (text += delta))
    const error = await stream.finalMessage().catch((e) => e)
    expect(error).toBeInstanceOf(APIError)
    expect(error.type).toBe('api_error')
    expect(error.apiMessage).toMatch(/broke|incomplete/i)
    expect(text.length).toBeGreaterThan(0)
    expect(gw.upstream.requests).toHaveLength(1)
  })
})
