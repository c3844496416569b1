import OpenAI, { APIError } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { ScriptedAnswer } from '../fake-upstream/index.ts'
import { embedValues } from '../fake-upstream/index.ts'
import { KEYS, PNG_BYTES, TOKEN, startGateway, startImageServer, type ImageServer, type Running } from './harness.ts'

/**
 * The converted OpenAI API (/v1, /hf/v1) through the official `openai` SDK against the fake upstream: what the SDK
 * parsed, and the exact Gemini body the fake received.
 */
describe('OpenAI converted API', () => {
  let gw: Running
  let client: OpenAI
  let media: ImageServer
  const PNG = PNG_BYTES

  beforeAll(async () => {
    gw = await startGateway({ env: { MEDIA_FETCH_ALLOW_PRIVATE: 'true' } })
    client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    media = await startImageServer()
  })
  afterAll(async () => {
    await gw.close()
    await media.close()
  })
  beforeEach(() => {
    gw.reset()
  })

  const sent = () => JSON.parse(gw.upstream.requests.at(-1)!.body)
  const scriptAll = (answer: ScriptedAnswer) => {
    for (const key of KEYS) gw.upstream.script(key, answer)
  }
  const raw = (path: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
    fetch(gw.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

  it('chat: every request field maps onto the Gemini body, and nothing else is sent', async () => {
    const schema = {
      type: 'object',
      properties: { city: { anyOf: [{ type: 'string' }, { $ref: '#/$defs/Code' }] } },
      $defs: { Code: { type: 'integer' } },
      required: ['city'],
    }
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'No emoji.' },
        { role: 'user', content: 'Hello gateway' },
      ],
      temperature: 0.4,
      top_p: 0.9,
      max_completion_tokens: 256,
      stop: ['END', 'STOP'],
      seed: 42,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      logprobs: true,
      top_logprobs: 2,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
      reasoning_effort: 'low',
      tools: [{ type: 'function', function: { name: 'weather', description: 'Weather by city', parameters: schema } }],
      tool_choice: 'required',
      parallel_tool_calls: true,
      user: 'someone',
      // @ts-expect-error a field OpenAI may add tomorrow is ignored, not refused
      some_future_field: { x: 1 },
    })
    expect(completion.object).toBe('chat.completion')
    expect(completion.id).toMatch(/^chatcmpl-/)
    expect(completion.model).toBe('gemini-2.5-flash')
    expect(completion.choices[0]!.message.content).toBe('Echo: Hello gateway')
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    // reasoning_effort asks for thought summaries: their tokens count as completion tokens, as OpenAI counts reasoning.
    expect(completion.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 11, total_tokens: 17, completion_tokens_details: { reasoning_tokens: 8 } })

    const seen = gw.upstream.requests.at(-1)!
    expect(seen.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(KEYS).toContain(seen.key)
    expect(sent()).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hello gateway' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'No emoji.' }] },
      tools: [{ functionDeclarations: [{ name: 'weather', description: 'Weather by city', parametersJsonSchema: schema }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      generationConfig: {
        temperature: 0.4,
        topP: 0.9,
        maxOutputTokens: 256,
        stopSequences: ['END', 'STOP'],
        seed: 42,
        presencePenalty: 0.1,
        frequencyPenalty: 0.2,
        responseLogprobs: true,
        logprobs: 2,
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object', properties: { a: { type: 'string' } } },
        thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
      },
    })
  })

  it('chat: a bare request gets no injected defaults; n → candidateCount; json_object', async () => {
    await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'plain' }] })
    expect(sent()).toEqual({ contents: [{ role: 'user', parts: [{ text: 'plain' }] }] })
    await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'x' }],
      n: 1,
      max_tokens: 5,
      stop: 'Z',
      response_format: { type: 'json_object' },
    })
    expect(sent().generationConfig).toEqual({ maxOutputTokens: 5, stopSequences: ['Z'], candidateCount: 1, responseMimeType: 'application/json' })
  })

  it('chat: images (data URL inline, http URL fetched after auth), audio and files', async () => {
    const imageUrl = media.url()
    const messages = [
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'what is this' },
          { type: 'image_url' as const, image_url: { url: 'data:image/webp;base64,UklGRg==' } },
          { type: 'image_url' as const, image_url: { url: imageUrl } },
          { type: 'input_audio' as const, input_audio: { data: 'SUQz', format: 'mp3' as const } },
          { type: 'file' as const, file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        ],
      },
    ]
    // A client that is not authenticated never makes the gateway fetch anything.
    const refused = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages }, { authorization: 'Bearer wrong' })
    expect(refused.status).toBe(401)
    expect(media.hits()).toBe(0)

    await client.chat.completions.create({ model: 'gemini-2.5-flash', messages })
    expect(media.hits()).toBe(1)
    expect(sent().contents[0].parts).toEqual([
      { text: 'what is this' },
      { inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } },
      { inlineData: { mimeType: 'audio/mp3', data: 'SUQz' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ])

    const broken = await raw('/v1/chat/completions', {
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `http://127.0.0.1:1/missing.png` } }] }],
    })
    expect(broken.status).toBe(400)
    expect((await broken.json()).error).toMatchObject({ type: 'invalid_request_error', param: 'messages[0].content[0].image_url.url' })
  })

  const gemini3Calls = {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [
            { text: 'I should add both pairs.', thought: true },
            { functionCall: { name: 'sum', args: { a: 2, b: 3 }, id: '3ae8iwca' }, thoughtSignature: 'EukBCuYBAb4+9vt/sig==' },
            { functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } },
          ],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 161, candidatesTokenCount: 32, thoughtsTokenCount: 45, totalTokenCount: 238 },
    modelVersion: 'gemini-3-flash-preview',
    responseId: 'aiS5abqwJJf7nsEPuIy3wQQ',
  }
  const sumTool = {
    type: 'function' as const,
    function: { name: 'sum', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] } },
  }

  it('multi-turn tool use on Gemini 3: tool calls, reasoning, and the thought signature round trip', async () => {
    scriptAll({ json: gemini3Calls })
    const question = { role: 'user' as const, content: 'Add 2+3 and 4+5' }
    const first = await client.chat.completions.create({ model: 'gemini-3-flash-preview', messages: [question], tools: [sumTool], reasoning_effort: 'high' })
    expect(sent().generationConfig).toEqual({ thinkingConfig: { thinkingLevel: 'high', includeThoughts: true } })
    const choice = first.choices[0]!
    expect(choice.finish_reason).toBe('tool_calls')
    expect(choice.message.content).toBeNull()
    expect((choice.message as any).reasoning_content).toBe('I should add both pairs.')
    const calls = choice.message.tool_calls as any[]
    expect(calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['sum', { a: 2, b: 3 }],
      ['sum', { a: 4, b: 5 }],
    ])
    expect(calls[0].id).toBe('3ae8iwca__thought__EukBCuYBAb4+9vt/sig==')
    expect(calls[0].extra_content).toEqual({ google: { thought_signature: 'EukBCuYBAb4+9vt/sig==' } })
    expect(calls[1].id).toBe('up3kf30e')
    expect(first.usage).toMatchObject({ prompt_tokens: 161, completion_tokens: 77, total_tokens: 238, completion_tokens_details: { reasoning_tokens: 45 } })

    const expectedHistory = [
      { role: 'user', parts: [{ text: 'Add 2+3 and 4+5' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'sum', args: { a: 2, b: 3 }, id: '3ae8iwca' }, thoughtSignature: 'EukBCuYBAb4+9vt/sig==' },
          { functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'sum', response: { sum: 5 }, id: '3ae8iwca' } },
          { functionResponse: { name: 'sum', response: { sum: 9 }, id: 'up3kf30e' } },
        ],
      },
    ]
    gw.upstream.reset()
    // The usual loop: the SDK's message pushed back as is (extra_content travels with it).
    await client.chat.completions.create({
      model: 'gemini-3-flash-preview',
      tools: [sumTool],
      messages: [
        question,
        choice.message,
        { role: 'tool', tool_call_id: calls[0].id, content: '{"sum":5}' },
        { role: 'tool', tool_call_id: calls[1].id, content: '{"sum":9}' },
      ],
    })
    expect(sent().contents).toEqual(expectedHistory)

    // A client that rebuilds the message from id/name/arguments only: the id alone brings the signature back.
    const rebuilt = {
      role: 'assistant' as const,
      content: null,
      tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.function.name, arguments: c.function.arguments } })),
    }
    await client.chat.completions.create({
      model: 'gemini-3-flash-preview',
      tools: [sumTool],
      messages: [
        question,
        rebuilt,
        { role: 'tool', tool_call_id: calls[0].id, content: '{"sum":5}' },
        { role: 'tool', tool_call_id: calls[1].id, content: '{"sum":9}' },
      ],
    })
    expect(sent().contents).toEqual(expectedHistory)
  })

  it('streaming text: role first, content deltas, the real finish_reason, a usage chunk, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    const finishes: (string | null)[] = []
    let role: string | undefined
    let usage: OpenAI.CompletionUsage | null | undefined
    for await (const chunk of stream) {
      role ??= chunk.choices[0]?.delta.role
      text += chunk.choices[0]?.delta.content ?? ''
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason)
      if (chunk.usage) usage = chunk.usage
    }
    expect(role).toBe('assistant')
    expect(text).toBe('Echo: stream me please')
    expect(finishes).toEqual(['stop'])
    expect(usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })
    expect(gw.upstream.requests.at(-1)!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent')
    expect(gw.upstream.requests.at(-1)!.query.alt).toBe('sse')

    const res = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'raw' }], stream: true })
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const body = await res.text()
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true)
    expect(body).not.toContain('"usage"')
  })

  it('streaming reasoning and tool calls, accumulated by the SDK stream helper', async () => {
    const line = (parts: unknown[], extra: Record<string, unknown> = {}) => ({
      candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 8, thoughtsTokenCount: 6, totalTokenCount: 24 },
      modelVersion: 'gemini-3-flash-preview',
      responseId: 'S1',
    })
    scriptAll({
      chunks: [
        line([{ text: 'Thinking about sums', thought: true }]),
        line([{ text: 'Let me add.' }]),
        line([{ functionCall: { name: 'sum', args: { a: 1, b: 2 }, id: 'abcd1234' }, thoughtSignature: 'U0lH' }]),
        line([{ functionCall: { name: 'sum', args: { a: 3, b: 4 }, id: 'efgh5678' } }]),
        line([{ text: '' }], { finishReason: 'STOP' }),
      ],
    })
    const runner = client.chat.completions.stream({ model: 'gemini-3-flash-preview', messages: [{ role: 'user', content: 'add' }], tools: [sumTool] })
    let reasoning = ''
    for await (const chunk of runner) reasoning += (chunk.choices[0]?.delta as any)?.reasoning_content ?? ''
    const final = await runner.finalChatCompletion()
    expect(reasoning).toBe('Thinking about sums')
    expect(final.choices[0]!.finish_reason).toBe('tool_calls')
    expect(final.choices[0]!.message.content).toBe('Let me add.')
    expect(final.choices[0]!.message.tool_calls!.map((c: any) => [c.id, c.function.name, c.function.arguments])).toEqual([
      ['abcd1234__thought__U0lH', 'sum', '{"a":1,"b":2}'],
      ['efgh5678', 'sum', '{"a":3,"b":4}'],
    ])
  })

  it('an upstream failure after the first byte ends the stream with an error event: no stop, no [DONE]', async () => {
    gw.upstream.setDefaultBehaviour('reset-mid-stream')
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'break me in the middle' }],
      stream: true,
    })
    let text = ''
    const finishes: string[] = []
    const failure = await (async () => {
      try {
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? ''
          if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason)
        }
      } catch (error) {
        return error
      }
    })()
    expect(failure).toBeInstanceOf(APIError)
    expect(text.length).toBeGreaterThan(0)
    expect(finishes).toEqual([])

    const res = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'break me again' }], stream: true })
    const body = await res.text()
    expect(body).not.toContain('[DONE]')
    expect(body).not.toContain('"finish_reason":"stop"')
    const last = JSON.parse(body.trim().split('\n\n').at(-1)!.slice(6))
    expect(last.error).toMatchObject({ type: 'server_error' })
    expect(typeof last.error.message).toBe('string')
  })

  it('a blocked prompt answers content_filter with empty content, streamed or not', async () => {
    gw.upstream.setDefaultBehaviour('blocked')
    const one = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'bad' }] })
    expect(one.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: '' } })
    const stream = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'bad' }], stream: true })
    const finishes: string[] = []
    for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason)
    expect(finishes).toEqual(['content_filter'])
  })

  it('errors by status, in OpenAI shape', async () => {
    const failure = async (promise: Promise<unknown>) => {
      try {
        await promise
      } catch (error) {
        return error as APIError
      }
      throw new Error('expected a failure')
    }
    const denied = await failure(
      new OpenAI({ apiKey: 'wrong', baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'x' }],
      }),
    )
    expect(denied.status).toBe(401)
    expect(denied.type).toBe('invalid_request_error')
    expect(denied.code).toBe('invalid_api_key')

    const invalid = await failure(client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }], temperature: 7 }))
    expect(invalid.status).toBe(400)
    expect(invalid.type).toBe('invalid_request_error')
    expect(invalid.param).toBe('temperature')

    const missing = await failure(client.chat.completions.create({ model: 'gemini-nope-9', messages: [{ role: 'user', content: 'x' }] }))
    expect(missing.status).toBe(404)
    expect(missing.code).toBe('model_not_found')
    expect(missing.message).toContain('gemini-nope-9')

    for (const key of KEYS) gw.upstream.setBehaviour(key, 'rate-minute', { retryDelaySeconds: 30 })
    const limited = await failure(client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] }))
    expect(limited.status).toBe(429)
    expect(limited.type).toBe('rate_limit_error')
    expect(Number(limited.headers?.get('retry-after'))).toBeGreaterThan(0)
    // Every key is cooling now: the next call is refused before reaching Google, still 429 with Retry-After.
    const before = gw.upstream.requests.length
    const cooling = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
    expect(cooling.status).toBe(429)
    expect(Number(cooling.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await cooling.json()).error.type).toBe('rate_limit_error')
    expect(gw.upstream.requests.length).toBe(before)

    const notJson = await raw('/v1/chat/completions', '{oops' as unknown)
    expect(notJson.status).toBe(400)
  })

  it('upstream 5xx after every retry is a 5xx with the upstream message', async () => {
    gw.upstream.setDefaultBehaviour('overloaded')
    const res = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
    expect(res.status).toBe(503)
    expect((await res.json()).error).toMatchObject({ type: 'server_error', message: 'The model is overloaded. Please try again later.' })
  })

  it('/hf/v1 is the same API; x-goog-api-key and ?key= authenticate too', async () => {
    const hf = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/hf/v1`, maxRetries: 0 })
    const answer = await hf.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'from hf' }] })
    expect(answer.choices[0]!.message.content).toBe('Echo: from hf')
    const byHeader = await raw('/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'h' }] }, { 'x-goog-api-key': TOKEN })
    expect(byHeader.status).toBe(200)
    const byQuery = await raw(`/hf/v1/chat/completions?key=${TOKEN}`, { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'q' }] }, {})
    expect(byQuery.status).toBe(200)
  })

  it('models: the upstream list in OpenAI shape, minus filtered models; one model; an unknown one is 404', async () => {
    const ids: string[] = []
    for await (const model of client.models.list()) {
      ids.push(model.id)
      expect(model).toMatchObject({ object: 'model', owned_by: 'google' })
      expect(typeof model.created).toBe('number')
    }
    expect(ids).toContain('gemini-2.5-flash')
    expect(ids).toContain('gemini-embedding-001')
    expect(ids).not.toContain('chat-bison-001')
    expect(gw.upstream.requests.at(-1)!.query.pageSize).toBe('1000')
    expect(await client.models.retrieve('gemini-2.5-pro')).toMatchObject({ id: 'gemini-2.5-pro', object: 'model', owned_by: 'google' })
    const missing = await client.models.retrieve('gemini-unknown').catch((error: APIError) => error)
    expect((missing as APIError).status).toBe(404)
    const filtered = await client.models.retrieve('chat-bison-001').catch((error: APIError) => error)
    expect((filtered as APIError).status).toBe(404)
    const hf = await fetch(`${gw.url}/hf/v1/models`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect((await hf.json()).object).toBe('list')
  })

  it('embeddings: float and base64, dimensions, batches beyond 100 inputs, token arrays refused', async () => {
    const floats = await raw('/v1/embeddings', { model: 'gemini-embedding-001', input: ['alpha', 'beta'], dimensions: 4, encoding_format: 'float' })
    const body = await floats.json()
    expect(body).toMatchObject({ object: 'list', model: 'gemini-embedding-001', usage: { prompt_tokens: 3, total_tokens: 3 } })
    expect(body.data.map((d: any) => d.embedding)).toEqual([embedValues('alpha', 4), embedValues('beta', 4)])
    expect(sent()).toEqual({
      requests: ['alpha', 'beta'].map((text) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] }, outputDimensionality: 4 })),
    })
    expect(gw.upstream.requests.at(-1)!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents')

    // The SDK asks for base64 by default and decodes it: float32 little-endian.
    const sdk = await client.embeddings.create({ model: 'gemini-embedding-001', input: 'gamma', dimensions: 8 })
    const expected = embedValues('gamma', 8)
    sdk.data[0]!.embedding.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 6))
    const b64 = await client.embeddings.create({ model: 'gemini-embedding-001', input: ['delta'], encoding_format: 'base64' })
    expect(typeof b64.data[0]!.embedding).toBe('string')

    gw.upstream.reset()
    const many = Array.from({ length: 230 }, (_, i) => `text ${i}`)
    const big = await client.embeddings.create({ model: 'gemini-embedding-001', input: many, encoding_format: 'float' })
    expect(big.data).toHaveLength(230)
    expect(big.data.map((d) => d.index)).toEqual(many.map((_, i) => i))
    expect(big.data[229]!.embedding).toEqual(embedValues('text 229'))
    expect(gw.upstream.requests.map((r) => JSON.parse(r.body).requests.length).sort((a, b) => b - a)).toEqual([100, 100, 30])

    const tokens = await raw('/v1/embeddings', { model: 'gemini-embedding-001', input: [[1, 2, 3]] })
    expect(tokens.status).toBe(400)
    expect((await tokens.json()).error).toMatchObject({ param: 'input', type: 'invalid_request_error' })
  })
})
