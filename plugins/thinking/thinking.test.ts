import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import { leastThinking } from './internal/least-thinking.ts'
import thinking from './index.ts'

/** The thinking plugin through the official SDKs against the fake upstream, which answers includeThoughts with thoughts. */

// gemini-balance's variables, as an existing .env sets them (the budget written as Python wrote floats).
const ENV = {
  THINKING_MODELS: 'gemini-2.5-flash,gemini-2.5-pro,gemini-2.5-flash-lite,gemini-3-flash-preview',
  THINKING_BUDGET_MAP: `{'gemini-2.5-flash': 2048.0, 'gemini-2.5-pro': 0, 'gemini-3-flash-preview': -1}`,
}
const thought = (text: string) => `**Thinking it over**\n\nThe user wrote: ${text}\n`

interface Clients {
  gw: Running
  openai: OpenAI
  anthropic: Anthropic
}

async function start(env: Record<string, string>): Promise<Clients> {
  const gw = await startGateway({ env, config: { plugins: [thinking()] } })
  return {
    gw,
    openai: new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 }),
  }
}

/** What Google received last: the model from the URL and the generationConfig from the body. */
function received(gw: Running) {
  const seen = gw.upstream.requests.at(-1)!
  return { model: seen.model, action: seen.action, body: seen.body, generationConfig: JSON.parse(seen.body).generationConfig }
}

async function openaiStream(openai: OpenAI, body: Omit<OpenAI.ChatCompletionCreateParamsStreaming, 'stream'>) {
  let content = ''
  let reasoning = ''
  for await (const chunk of await openai.chat.completions.create({ ...body, stream: true })) {
    const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined
    content += delta?.content ?? ''
    reasoning += delta?.reasoning_content ?? ''
  }
  return { content, reasoning }
}

describe('thinking plugin: SHOW_THINKING_PROCESS on (the default)', () => {
  let c: Clients
  beforeAll(async () => {
    c = await start(ENV)
  })
  afterAll(() => c.gw.close())
  beforeEach(() => c.gw.reset())

  it('lists a -non-thinking variant after each THINKING_MODELS base, in the native and the OpenAI list, and no other', async () => {
    const native: string[] = []
    for await (const model of await c.gw.genai().models.list()) native.push(model.name!)
    const openai = (await c.openai.models.list()).data.map((model) => model.id)
    for (const [names, prefix] of [
      [native, 'models/'],
      [openai, ''],
    ] as const) {
      for (const base of ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite', 'gemini-3-flash-preview']) {
        expect(names.indexOf(`${prefix}${base}-non-thinking`)).toBeGreaterThan(names.indexOf(`${prefix}${base}`))
        expect(names.indexOf(`${prefix}${base}`)).toBeGreaterThanOrEqual(0)
      }
      expect(names).not.toContain(`${prefix}gemini-2.0-flash-non-thinking`)
    }
  })

  it('-non-thinking turns thinking off, or as low as the model goes; Google gets the base model and the client no thoughts', async () => {
    const cases = [
      ['gemini-2.5-flash', { thinkingBudget: 0 }],
      ['gemini-2.5-pro', { thinkingBudget: 128 }],
      ['gemini-3-flash-preview', { thinkingLevel: 'minimal' }],
    ] as const
    for (const [base, config] of cases) {
      const answer = await c.gw.genai().models.generateContent({ model: `${base}-non-thinking`, contents: 'quick one' })
      expect(received(c.gw)).toMatchObject({ model: base, action: 'generateContent', generationConfig: { thinkingConfig: config } })
      expect(answer.candidates![0]!.content!.parts).toEqual([{ text: 'Echo: quick one' }])

      const streamed = await openaiStream(c.openai, { model: `${base}-non-thinking`, messages: [{ role: 'user', content: 'quick two' }] })
      expect(received(c.gw)).toMatchObject({ model: base, action: 'streamGenerateContent', generationConfig: { thinkingConfig: config } })
      expect(streamed).toEqual({ content: 'Echo: quick two', reasoning: '' })
    }
  })

  it('the family table: the least thinking each model takes', () => {
    expect(leastThinking('gemini-2.5-flash-lite')).toEqual({ thinkingBudget: 0 })
    expect(leastThinking('gemini-2.5-pro-preview-06-05')).toEqual({ thinkingBudget: 128 })
    expect(leastThinking('gemini-3-pro-preview')).toEqual({ thinkingLevel: 'low' })
    expect(leastThinking('gemini-3.1-pro-preview')).toEqual({ thinkingLevel: 'low' })
    expect(leastThinking('gemini-3.1-flash-lite')).toEqual({ thinkingLevel: 'minimal' })
    expect(leastThinking('gemini-2.0-flash')).toBeUndefined()
    expect(leastThinking('gemma-3-27b-it')).toBeUndefined()
  })

  it('native: THINKING_BUDGET_MAP sets the budget and asks for thoughts; they come back as thought parts, stream and non-stream', async () => {
    const genai = c.gw.genai()
    const answer = await genai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'where is HQ' })
    expect(received(c.gw)).toMatchObject({ model: 'gemini-2.5-flash', generationConfig: { thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } } })
    expect(answer.candidates![0]!.content!.parts).toEqual([{ text: thought('where is HQ'), thought: true }, { text: 'Echo: where is HQ' }])
    expect(answer.text).toBe('Echo: where is HQ')

    const parts = []
    for await (const chunk of await genai.models.generateContentStream({ model: 'gemini-3-flash-preview', contents: 'stream HQ' }))
      parts.push(...chunk.candidates![0]!.content!.parts!)
    expect(received(c.gw)).toMatchObject({
      model: 'gemini-3-flash-preview',
      action: 'streamGenerateContent',
      generationConfig: { thinkingConfig: { thinkingBudget: -1, includeThoughts: true } },
    })
    expect(parts[0]).toEqual({ text: thought('stream HQ'), thought: true })
    expect(
      parts
        .slice(1)
        .map((part) => part.text)
        .join(''),
    ).toBe('Echo: stream HQ')
  })

  it('a budget of 0 in the map means the least the model takes (2.5 Pro refuses 0); a THINKING_MODELS model gets only includeThoughts', async () => {
    await c.gw.genai().models.generateContent({ model: 'gemini-2.5-pro', contents: 'x' })
    expect(received(c.gw).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 128 } })
    await c.gw.genai().models.generateContent({ model: 'gemini-2.5-flash-lite', contents: 'x', config: { temperature: 0.5 } })
    expect(received(c.gw).generationConfig).toEqual({ temperature: 0.5, thinkingConfig: { includeThoughts: true } })
  })

  it('OpenAI: thoughts arrive as reasoning_content, stream and non-stream', async () => {
    const completion = await c.openai.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'think once' }] })
    expect(received(c.gw).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } })
    expect(completion.choices[0]!.message.content).toBe('Echo: think once')
    expect((completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toBe(thought('think once'))

    expect(await openaiStream(c.openai, { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'think twice' }] })).toEqual({
      content: 'Echo: think twice',
      reasoning: thought('think twice'),
    })
  })

  it('Anthropic: thoughts arrive as thinking blocks, stream and non-stream', async () => {
    const message = await c.anthropic.messages.create({ model: 'gemini-2.5-flash', max_tokens: 4096, messages: [{ role: 'user', content: 'ponder' }] })
    expect(received(c.gw).generationConfig).toEqual({ maxOutputTokens: 4096, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } })
    expect(message.content).toMatchObject([
      { type: 'thinking', thinking: thought('ponder') },
      { type: 'text', text: 'Echo: ponder' },
    ])

    const streamed = await c.anthropic.messages
      .stream({ model: 'gemini-2.5-flash', max_tokens: 4096, messages: [{ role: 'user', content: 'ponder more' }] })
      .finalMessage()
    expect(streamed.content).toMatchObject([
      { type: 'thinking', thinking: thought('ponder more') },
      { type: 'text', text: 'Echo: ponder more' },
    ])
  })

  it('Responses: thoughts arrive as a reasoning item, stream and non-stream', async () => {
    const response = await c.openai.responses.create({ model: 'gemini-2.5-flash', input: 'reason' })
    expect(response.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: thought('reason') }] })
    expect(response.output_text).toBe('Echo: reason')

    const streamed = await c.openai.responses.stream({ model: 'gemini-2.5-flash', input: 'reason on' }).finalResponse()
    expect(received(c.gw).action).toBe('streamGenerateContent')
    expect(streamed.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: thought('reason on') }] })
    expect(streamed.output_text).toBe('Echo: reason on')
  })

  it("the client's own thinking settings win whole, in every dialect, even on a -non-thinking variant", async () => {
    await c.gw.genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'x', config: { thinkingConfig: { thinkingBudget: 512 } } })
    expect(received(c.gw).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 512 } })
    const snake = { contents: [{ parts: [{ text: 'x' }] }], generation_config: { thinking_config: { thinking_budget: 300 } } }
    await post(c.gw, '/v1beta/models/gemini-2.5-flash-non-thinking:generateContent', snake)
    expect(JSON.parse(received(c.gw).body)).toEqual(snake)

    await c.openai.chat.completions.create({ model: 'gemini-2.5-flash-non-thinking', messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'high' })
    expect(received(c.gw)).toMatchObject({ model: 'gemini-2.5-flash', generationConfig: { thinkingConfig: { thinkingBudget: 24576, includeThoughts: true } } })
    await c.openai.chat.completions.create({
      model: 'gemini-2.5-pro',
      messages: [{ role: 'user', content: 'x' }],
      extra_body: { google: { thinking_config: { thinking_budget: 4000 } } },
    } as never)
    expect(received(c.gw).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 4000 } })

    await c.anthropic.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 8000,
      thinking: { type: 'enabled', budget_tokens: 3000 },
      messages: [{ role: 'user', content: 'x' }],
    })
    expect(received(c.gw).generationConfig).toEqual({ maxOutputTokens: 8000, thinkingConfig: { thinkingBudget: 3000, includeThoughts: true } })

    await c.openai.responses.create({ model: 'gemini-2.5-flash', input: 'x', reasoning: { effort: 'low' } })
    expect(received(c.gw).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } })
  })

  it('requests it does not apply to keep their exact bytes: other models, countTokens, embeddings, the OpenAI pass-through', async () => {
    const raw = '{ "contents" : [ { "parts" : [ { "text" : "as typed" } ] } ] }'
    await post(c.gw, '/v1beta/models/gemini-2.0-flash:generateContent', raw)
    expect(received(c.gw).body).toBe(raw)
    await post(c.gw, '/v1beta/models/gemini-2.5-flash:countTokens', raw)
    expect(received(c.gw)).toMatchObject({ action: 'countTokens', body: raw })
    await post(c.gw, '/v1beta/models/gemini-2.5-flash-non-thinking:countTokens', raw)
    expect(received(c.gw)).toMatchObject({ model: 'gemini-2.5-flash', action: 'countTokens', body: raw })
    const embed = '{ "content" : { "parts" : [ { "text" : "vector" } ] } }'
    await post(c.gw, '/v1beta/models/gemini-embedding-001:embedContent', embed)
    expect(received(c.gw).body).toBe(embed)

    const passthrough = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'pass' }] }
    const res = await post(c.gw, '/openai/v1/chat/completions', passthrough, { authorization: `Bearer ${TOKEN}` })
    expect(res.status).toBe(200)
    expect(received(c.gw)).toMatchObject({ action: 'chat/completions', body: JSON.stringify(passthrough) })
  })
})

describe('thinking plugin: SHOW_THINKING_PROCESS=false', () => {
  let c: Clients
  beforeAll(async () => {
    c = await start({ ...ENV, SHOW_THINKING_PROCESS: 'false' })
  })
  afterAll(() => c.gw.close())
  beforeEach(() => c.gw.reset())

  it("thoughts are not asked for: the map's budget goes alone, THINKING_MODELS alone change nothing", async () => {
    const answer = await c.gw.genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'quiet' })
    expect(received(c.gw).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 2048 } })
    expect(answer.candidates![0]!.content!.parts).toEqual([{ text: 'Echo: quiet' }])
    const raw = JSON.stringify(userText('untouched'))
    await post(c.gw, '/v1beta/models/gemini-2.5-flash-lite:generateContent', raw)
    expect(received(c.gw).body).toBe(raw)
  })

  it('thoughts a client asked for itself are removed from the answer, stream and non-stream, in every dialect', async () => {
    const genai = c.gw.genai()
    const config = { thinkingConfig: { includeThoughts: true } }
    const answer = await genai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hide', config })
    expect(received(c.gw).generationConfig).toEqual(config) // the client's own setting went to Google untouched
    expect(answer.candidates![0]!.content!.parts).toEqual([{ text: 'Echo: hide' }])
    const parts = []
    for await (const chunk of await genai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hide more', config }))
      parts.push(...(chunk.candidates![0]!.content?.parts ?? []))
    expect(parts.some((part) => part.thought)).toBe(false)
    expect(parts.map((part) => part.text).join('')).toBe('Echo: hide more')

    const completion = await c.openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'x' }],
      reasoning_effort: 'low',
    })
    expect(received(c.gw).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } })
    expect(completion.choices[0]!.message).not.toHaveProperty('reasoning_content')
    expect(await openaiStream(c.openai, { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'y' }], reasoning_effort: 'low' })).toEqual({
      content: 'Echo: y',
      reasoning: '',
    })

    const thinkingParam = { type: 'enabled', budget_tokens: 2000 } as const
    const message = await c.anthropic.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 4096,
      thinking: thinkingParam,
      messages: [{ role: 'user', content: 'z' }],
    })
    expect(message.content).toMatchObject([{ type: 'text', text: 'Echo: z' }])
    expect(message.content).toHaveLength(1)
    const streamed = await c.anthropic.messages
      .stream({ model: 'gemini-2.5-flash', max_tokens: 4096, thinking: thinkingParam, messages: [{ role: 'user', content: 'w' }] })
      .finalMessage()
    expect(streamed.content.map((block) => block.type)).toEqual(['text'])

    const response = await c.openai.responses.create({ model: 'gemini-2.5-flash', input: 'v', reasoning: { effort: 'low', summary: 'auto' } })
    expect(response.output.map((item) => item.type)).toEqual(['message'])
  })

  it('a thought that carries a thought signature leaves the signature behind', async () => {
    const signed = {
      candidates: [
        {
          content: { role: 'model', parts: [{ text: 'secret', thought: true, thoughtSignature: 'c2ln' }, { text: 'Answer' }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, thoughtsTokenCount: 1, totalTokenCount: 3 },
    }
    for (const key of KEYS) c.gw.upstream.script(key, { json: signed })
    const answer = await c.gw.genai().models.generateContent({ model: 'gemini-3-flash-preview', contents: 'x' })
    expect(answer.candidates![0]!.content!.parts).toEqual([{ text: '', thoughtSignature: 'c2ln' }, { text: 'Answer' }])
  })
})

describe('thinking plugin options are checked at start', () => {
  it.each([
    ['a fraction', '{"gemini-2.5-flash": 1.5}'],
    ['a budget above 32768', '{"gemini-2.5-flash": 40000}'],
    ['a negative budget other than -1', '{"gemini-2.5-flash": -2}'],
    ['a budget that is not a number', '{"gemini-2.5-flash": "auto"}'],
  ])('THINKING_BUDGET_MAP with %s stops the start, naming the variable', async (_name, map) => {
    await expect(startGateway({ env: { THINKING_BUDGET_MAP: map }, config: { plugins: [thinking()] } })).rejects.toThrow(/THINKING_BUDGET_MAP/)
  })

  it('options given in gateway.config.ts are checked the same way', async () => {
    await expect(startGateway({ config: { plugins: [thinking({ budgets: { 'gemini-2.5-pro': 0.5 } })] } })).rejects.toThrow(/option budgets/)
  })
})
