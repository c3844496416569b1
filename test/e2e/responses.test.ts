import OpenAI from 'openai'
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, PNG_BYTES, TOKEN, startGateway, startImageServer, type ImageServer, type Running } from './harness.ts'

const PNG = PNG_BYTES.toString('base64')

/** The Responses API through the official `openai` SDK, against the fake Gemini upstream. */
describe('OpenAI Responses API', () => {
  let gw: Running
  let baseURL: string
  let media: ImageServer
  let client: OpenAI

  beforeAll(async () => {
    gw = await startGateway({ config: { mediaFetchAllowPrivate: true } })
    baseURL = `${gw.url}/v1`
    media = await startImageServer()
    client = new OpenAI({ apiKey: TOKEN, baseURL, maxRetries: 0 })
  })
  afterAll(async () => {
    await media.close()
    await gw.close()
  })
  beforeEach(() => {
    gw.reset()
  })

  /** Every key answers this (so whichever key the pool picks, the answer is the same). */
  const scriptAll = (answer: { json?: unknown; chunks?: unknown[] }) => {
    for (const key of KEYS) gw.upstream.script(key, answer)
  }
  const lastUpstream = () => {
    const seen = gw.upstream.requests.at(-1)!
    return { ...seen, json: JSON.parse(seen.body) }
  }
  const answer = (
    parts: unknown[],
    finishReason = 'STOP',
    usage: Record<string, number> = { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
  ) => ({
    candidates: [{ content: { parts, role: 'model' }, finishReason, index: 0 }],
    usageMetadata: usage,
    modelVersion: 'gemini-3-flash-preview',
    responseId: 'gemRespId1',
  })

  it('text: a string input, the answer and usage through the SDK; the upstream saw exactly the Gemini body', async () => {
    const response = await client.responses.create({ model: 'gemini-2.5-flash', input: 'Hello gateway' })
    expect(response.output_text).toBe('Echo: Hello gateway')
    expect(response.status).toBe('completed')
    expect(response.model).toBe('gemini-2.5-flash')
    expect(response.id).toMatch(/^resp_/)
    expect(response.output).toHaveLength(1)
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' })
    expect(response.usage).toEqual({
      input_tokens: 2,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 5,
    })
    const seen = gw.upstream.requests.at(-1)!
    expect(seen.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(KEYS).toContain(seen.key)
    expect(seen.body).toBe(JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello gateway' }] }] }))
  })

  it('instructions, sampling and limits map onto the Gemini request; unknown fields are ignored', async () => {
    const response = await client.responses.create({
      model: 'gemini-2.5-flash',
      instructions: 'Answer tersely.',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: 'How far is the moon?' },
      ],
      temperature: 0.3,
      top_p: 0.8,
      max_output_tokens: 128,
      store: false,
      metadata: { team: 'a' },
      user: 'u-1',
      // @ts-expect-error a field from the future
      some_future_field: { x: 1 },
    })
    expect(response.instructions).toBe('Answer tersely.')
    expect(response.temperature).toBe(0.3)
    expect(lastUpstream().json).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'How far is the moon?' }] }],
      systemInstruction: { parts: [{ text: 'Answer tersely.' }, { text: 'Use metric units.' }] },
      generationConfig: { maxOutputTokens: 128, temperature: 0.3, topP: 0.8 },
    })
  })

  it('json_schema output: responseMimeType + responseJsonSchema, the JSON comes back as output_text', async () => {
    scriptAll({ json: answer([{ text: '{"city":"Paris","population":2100000}' }]) })
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, population: { type: 'integer' } },
      required: ['city', 'population'],
      additionalProperties: false,
    }
    const response = await client.responses.create({
      model: 'gemini-2.5-flash',
      input: 'Largest city of France?',
      text: { format: { type: 'json_schema', name: 'city', schema, strict: true } },
    })
    expect(JSON.parse(response.output_text)).toEqual({ city: 'Paris', population: 2100000 })
    expect(lastUpstream().json.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema })
  })

  it('images: data URLs go inline, http URLs are fetched after auth', async () => {
    await client.responses.create({
      model: 'gemini-2.5-flash',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Compare' },
            { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'auto' },
            { type: 'input_image', image_url: media.url(), detail: 'auto' },
          ],
        },
      ],
    })
    expect(lastUpstream().json.contents[0].parts).toEqual([
      { text: 'Compare' },
      { inlineData: { mimeType: 'image/png', data: PNG } },
      { inlineData: { mimeType: 'image/png', data: PNG } },
    ])
  })

  it('function calling, two turns: call ids and the Gemini 3 thought signature make the round trip', async () => {
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        description: 'Current weather',
        strict: true,
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
      },
    ]
    scriptAll({
      json: answer([
        { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: '3ae8iwca' }, thoughtSignature: 'EukBCuYBAb4+9vt/sig==' },
        { functionCall: { name: 'get_weather', args: { city: 'Rome' }, id: 'up3kf30e' } },
      ]),
    })
    const input: ResponseInputItem[] = [{ role: 'user', content: 'Weather in Paris and Rome?' }]
    const first = await client.responses.create({ model: 'gemini-3-flash-preview', input, tools, tool_choice: 'auto' })
    expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'function_call', 'function_call'])
    const calls = first.output.filter((item) => item.type === 'function_call')
    expect(calls.map((c) => [c.call_id, c.name, JSON.parse(c.arguments)])).toEqual([
      ['3ae8iwca', 'get_weather', { city: 'Paris' }],
      ['up3kf30e', 'get_weather', { city: 'Rome' }],
    ])
    expect(lastUpstream().json).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] }],
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Current weather', parametersJsonSchema: tools[0]!.parameters }] }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    })

    scriptAll({ json: answer([{ text: 'Paris 21C, Rome 25C.', thoughtSignature: 'TXTSIG' }]) })
    input.push(...(first.output as ResponseInputItem[]))
    input.push({ type: 'function_call_output', call_id: '3ae8iwca', output: '{"temp":21}' })
    input.push({ type: 'function_call_output', call_id: 'up3kf30e', output: '25C and sunny' })
    const second = await client.responses.create({ model: 'gemini-3-flash-preview', input, tools })
    expect(second.output_text).toBe('Paris 21C, Rome 25C.')
    expect(lastUpstream().json.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: '3ae8iwca' }, thoughtSignature: 'EukBCuYBAb4+9vt/sig==' },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' }, id: 'up3kf30e' } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 21 }, id: '3ae8iwca' } },
          { functionResponse: { name: 'get_weather', response: { output: '25C and sunny' }, id: 'up3kf30e' } },
        ],
      },
    ])

    // Third turn: the text signature of the second answer comes back too.
    scriptAll({ json: answer([{ text: 'You are welcome.' }]) })
    input.push(...(second.output as ResponseInputItem[]), { role: 'user', content: 'Thanks!' })
    await client.responses.create({ model: 'gemini-3-flash-preview', input, tools })
    expect(lastUpstream().json.contents.slice(3)).toEqual([
      { role: 'model', parts: [{ text: 'Paris 21C, Rome 25C.', thoughtSignature: 'TXTSIG' }] },
      { role: 'user', parts: [{ text: 'Thanks!' }] },
    ])
  })

  it('reasoning: effort → thinkingConfig, thought parts → a reasoning item with its summary', async () => {
    scriptAll({
      json: answer([{ text: '**Weighing it**\n\nHmm.', thought: true }, { text: 'Mountain View' }], 'STOP', {
        promptTokenCount: 9,
        candidatesTokenCount: 2,
        thoughtsTokenCount: 30,
        totalTokenCount: 41,
      }),
    })
    const response = await client.responses.create({
      model: 'gemini-2.5-flash',
      input: 'Where is Google HQ?',
      reasoning: { effort: 'medium', summary: 'auto' },
    })
    expect(lastUpstream().json.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 8192, includeThoughts: true } })
    expect(response.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: '**Weighing it**\n\nHmm.' }] })
    expect(response.output_text).toBe('Mountain View')
    expect(response.usage).toMatchObject({ output_tokens: 32, output_tokens_details: { reasoning_tokens: 30 } })

    await client.responses.create({ model: 'gemini-3-pro-preview', input: 'x', reasoning: { effort: 'low' } })
    expect(lastUpstream().json.generationConfig).toEqual({ thinkingConfig: { thinkingLevel: 'low', includeThoughts: true } })
  })

  it('MAX_TOKENS → status incomplete with reason max_output_tokens', async () => {
    scriptAll({ json: answer([{ text: 'Once upon a' }], 'MAX_TOKENS') })
    const response = await client.responses.create({ model: 'gemini-2.5-flash', input: 'Tell a story', max_output_tokens: 3 })
    expect(response.status).toBe('incomplete')
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' })
    expect(response.output_text).toBe('Once upon a')
  })

  it('streaming: typed events by iteration, text deltas add up, the upstream call is the SSE stream', async () => {
    const stream = await client.responses.create({ model: 'gemini-2.5-flash', input: 'stream me please', stream: true })
    const events: ResponseStreamEvent[] = []
    for await (const event of stream) events.push(event)
    const types = events.map((e) => e.type)
    expect(types[0]).toBe('response.created')
    expect(types[1]).toBe('response.in_progress')
    expect(types.at(-1)).toBe('response.completed')
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('')
    expect(text).toBe('Echo: stream me please')
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(3)
    const completed = events.at(-1)
    expect(completed?.type === 'response.completed' && completed.response.usage?.total_tokens).toBeGreaterThan(0)
    expect(gw.upstream.requests.at(-1)!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent')
    expect(gw.upstream.requests.at(-1)!.query.alt).toBe('sse')
  })

  it('streaming: responses.stream().finalResponse() assembles reasoning, text and function calls', async () => {
    const usage = { promptTokenCount: 9, candidatesTokenCount: 8, thoughtsTokenCount: 20, totalTokenCount: 37 }
    scriptAll({
      chunks: [
        answerChunk([{ text: '**Plan**\n\nCheck the weather.', thought: true }]),
        answerChunk([{ text: 'Let me check.' }]),
        answerChunk([{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: 'FCSIG' }]),
        answerChunk([], 'STOP', usage),
      ],
    })
    const runner = client.responses.stream({
      model: 'gemini-2.5-flash',
      input: 'Weather in Oslo?',
      reasoning: { effort: 'low', summary: 'auto' },
      tools: [{ type: 'function', name: 'get_weather', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    })
    const summaryDeltas: string[] = []
    const argDeltas: string[] = []
    runner.on('response.reasoning_summary_text.delta', (e) => summaryDeltas.push(e.delta))
    runner.on('response.function_call_arguments.delta', (e) => argDeltas.push(e.delta))
    const final = await runner.finalResponse()
    expect(final.status).toBe('completed')
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'reasoning', 'function_call'])
    expect(final.output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: '**Plan**\n\nCheck the weather.' }] })
    expect(final.output[2]).toMatchObject({ type: 'reasoning', summary: [], encrypted_content: 'gemgate.sig.v1.next.FCSIG' })
    expect(final.output[3]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' })
    expect((final.output[3] as { call_id: string }).call_id).toMatch(/^call_/)
    expect(final.output_text).toBe('Let me check.')
    expect(summaryDeltas).toEqual(['**Plan**\n\nCheck the weather.'])
    expect(argDeltas).toEqual(['{"city":"Oslo"}'])
    expect(final.usage).toMatchObject({ input_tokens: 9, output_tokens: 28, output_tokens_details: { reasoning_tokens: 20 } })

    // The gateway-made call id is not sent to Gemini; the signature is back on its call.
    scriptAll({ json: answer([{ text: 'Cold.' }]) })
    await client.responses.create({
      model: 'gemini-2.5-flash',
      input: [
        'Weather in Oslo?',
        ...final.output,
        { type: 'function_call_output', call_id: (final.output[3] as { call_id: string }).call_id, output: '-3C' },
      ].map((item) => (typeof item === 'string' ? { role: 'user' as const, content: item } : (item as ResponseInputItem))),
    })
    expect(lastUpstream().json.contents.slice(1)).toEqual([
      { role: 'model', parts: [{ text: 'Let me check.' }, { functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: 'FCSIG' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: '-3C' } } }] },
    ])
  })

  it('streaming: MAX_TOKENS ends with response.incomplete', async () => {
    scriptAll({ chunks: [answerChunk([{ text: 'Once' }]), answerChunk([{ text: ' upon' }], 'MAX_TOKENS')] })
    const final = await client.responses.stream({ model: 'gemini-2.5-flash', input: 'story' }).finalResponse()
    expect(final.status).toBe('incomplete')
    expect(final.incomplete_details).toEqual({ reason: 'max_output_tokens' })
    expect(final.output_text).toBe('Once upon')
  })

  it('streaming: a failure after the first byte ends in response.failed + error, and the SDK throws', async () => {
    gw.upstream.setDefaultBehaviour('reset-mid-stream')
    const stream = await client.responses.create({ model: 'gemini-2.5-flash', input: 'one two three four five six', stream: true })
    const types: string[] = []
    const failure = await (async () => {
      try {
        for await (const event of stream) types.push(event.type)
      } catch (error) {
        return error
      }
    })()
    expect(failure).toBeInstanceOf(OpenAI.APIError)
    expect((failure as InstanceType<typeof OpenAI.APIError>).message).toMatch(/stream broke|incomplete/)
    expect(types).toContain('response.output_text.delta')
    expect(types.at(-1)).toBe('response.failed')
    expect(types).not.toContain('response.completed')

    await expect(client.responses.stream({ model: 'gemini-2.5-flash', input: 'one two three four' }).finalResponse()).rejects.toThrow()
  })

  it('errors: previous_response_id and store:true are refused with a 400 naming the field', async () => {
    const refused = await client.responses.create({ model: 'gemini-2.5-flash', input: 'x', previous_response_id: 'resp_123' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
    expect(refused).toMatchObject({ status: 400, param: 'previous_response_id', type: 'invalid_request_error' })
    expect((refused as Error).message).toMatch(/stateless/)

    const stored = await client.responses.create({ model: 'gemini-2.5-flash', input: 'x', store: true }).catch((e: unknown) => e)
    expect(stored).toMatchObject({ status: 400, param: 'store' })

    const unsupported = await client.responses
      .create({ model: 'gemini-2.5-flash', input: 'x', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] })
      .catch((e: unknown) => e)
    expect(unsupported).toMatchObject({ status: 400, param: 'tools[0].type' })

    const retrieved = await client.responses.retrieve('resp_123').catch((e: unknown) => e)
    expect(retrieved).toBeInstanceOf(OpenAI.NotFoundError)
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('errors: a wrong token is a 401 in OpenAI shape', async () => {
    const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL, maxRetries: 0 })
    const error = await bad.responses.create({ model: 'gemini-2.5-flash', input: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key' })
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('errors: every key rate-limited is a 429 with Retry-After', async () => {
    gw.upstream.setDefaultBehaviour('rate-minute')
    const error = await client.responses.create({ model: 'gemini-2.5-flash', input: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    const rate = error as InstanceType<typeof OpenAI.RateLimitError>
    expect(rate.code).toBe('rate_limit_exceeded')
    expect(Number(rate.headers?.get('retry-after'))).toBeGreaterThan(0)

    const streamed = await client.responses.create({ model: 'gemini-2.5-flash', input: 'x', stream: true }).catch((e: unknown) => e)
    expect(streamed).toMatchObject({ status: 429 })
  })

  it("errors: a Gemini 400 keeps its status and Google's message, in OpenAI shape", async () => {
    gw.upstream.setDefaultBehaviour('location')
    const error = await client.responses.create({ model: 'gemini-2.5-flash', input: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'failed_precondition', param: null })
    expect((error as Error).message).toMatch(/User location is not supported/)
  })

  it('other auth forms work: x-goog-api-key and ?key=', async () => {
    for (const [suffix, headers] of [
      ['?key=' + TOKEN, {}],
      ['', { 'x-goog-api-key': TOKEN }],
    ] as const) {
      const res = await fetch(`${baseURL}/responses${suffix}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gemini-2.5-flash', input: 'hi' }),
      })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { object: string }).object).toBe('response')
    }
  })

  it('input token count goes through countTokens with the whole request', async () => {
    const counted = await client.responses.inputTokens.count({ model: 'gemini-2.5-flash', input: 'one two three', instructions: 'four five' })
    expect(counted).toEqual({ object: 'response.input_tokens', input_tokens: 5 })
    const seen = lastUpstream()
    expect(seen.path).toBe('/v1beta/models/gemini-2.5-flash:countTokens')
    expect(seen.json).toEqual({
      generateContentRequest: {
        model: 'models/gemini-2.5-flash',
        contents: [{ role: 'user', parts: [{ text: 'one two three' }] }],
        systemInstruction: { parts: [{ text: 'four five' }] },
      },
    })
  })
})

function answerChunk(parts: unknown[], finishReason?: string, usage: Record<string, number> = { promptTokenCount: 9, totalTokenCount: 9 }) {
  return {
    candidates: [{ content: { parts, role: 'model' }, ...(finishReason ? { finishReason } : {}), index: 0 }],
    usageMetadata: usage,
    modelVersion: 'gemini-2.5-flash',
    responseId: 'streamRespId',
  }
}
