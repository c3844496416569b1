import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { definePlugin } from 'gemgate'
import { PNG_BYTES, TOKEN, post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import { CODE_RUN } from '../../test/fake-upstream/tools.ts'
import search from '../search/index.ts'
import tools from './index.ts'

const PNG = PNG_BYTES.toString('base64')
const BOTH = [{ codeExecution: {} }, { urlContext: {} }]

const sent = (gw: Running) => {
  const seen = gw.upstream.requests.at(-1)!
  return { ...seen, json: JSON.parse(seen.body) }
}
const generate = (gw: Running, model: string, body: unknown) => post(gw, `/v1beta/models/${model}:generateContent`, body)

/** The rendered code execution: the code and its output, whatever the markdown around them. */
function expectCodeRun(text: string): void {
  expect(text).toContain(CODE_RUN.code.trimEnd())
  expect(text).toContain(CODE_RUN.output.trimEnd())
}

// A thinking-off variant of the test's own (the thinking plugin's is another plugin's business).
const nonThinking = definePlugin({
  name: 'non-thinking-test',
  summary: 'test: a -non-thinking variant',
  setup: () => ({ variants: [{ suffix: '-non-thinking', appliesTo: (base) => base === 'gemini-2.5-flash' }] }),
})

describe('tools plugin, switched on as in gemini-balance (TOOLS_CODE_EXECUTION_ENABLED, URL_CONTEXT_ENABLED)', () => {
  let gw: Running
  let openai: OpenAI
  let anthropic: Anthropic
  beforeAll(async () => {
    gw = await startGateway({
      env: { TOOLS_CODE_EXECUTION_ENABLED: 'true', URL_CONTEXT_ENABLED: 'true' },
      config: { plugins: [search(), tools(), nonThinking()] },
    })
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    anthropic = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('native, non-stream and stream: Google gets both tools; the client gets the code, its result and the text', async () => {
    const answer = await gw.genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'please run the sum' })
    expect(sent(gw).json.tools).toEqual(BOTH)
    expect(answer.executableCode).toBe(CODE_RUN.code)
    expect(answer.codeExecutionResult).toBe(CODE_RUN.output)
    expect(answer.candidates![0]!.content!.parts!.at(-1)).toEqual({ text: 'Echo: please run the sum' })

    const stream = await gw.genai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'run it streaming' })
    const kinds: string[] = []
    for await (const chunk of stream) for (const part of chunk.candidates![0]!.content!.parts!) kinds.push(Object.keys(part).join())
    expect(sent(gw).action).toBe('streamGenerateContent')
    expect(sent(gw).json.tools).toEqual(BOTH)
    expect(kinds.slice(0, 2)).toEqual(['executableCode', 'codeExecutionResult'])
  })

  it('OpenAI chat, non-stream and stream: the code and its output arrive rendered in the content', async () => {
    const completion = await openai.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'run the numbers' }] })
    expect(sent(gw).json.tools).toEqual(BOTH)
    expectCodeRun(completion.choices[0]!.message.content!)
    expect(completion.choices[0]!.message.content!.endsWith('Echo: run the numbers')).toBe(true)

    const stream = await openai.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'run them again' }], stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expectCodeRun(text)
    expect(text.endsWith('Echo: run them again')).toBe(true)
  })

  it('Anthropic Messages, non-stream and stream: the code and its output arrive rendered in the text', async () => {
    const message = await anthropic.messages.create({ model: 'gemini-2.5-flash', max_tokens: 256, messages: [{ role: 'user', content: 'execute this' }] })
    expect(sent(gw).json.tools).toEqual(BOTH)
    expectCodeRun(message.content.map((block) => (block.type === 'text' ? block.text : '')).join(''))

    const stream = anthropic.messages.stream({ model: 'gemini-2.5-flash', max_tokens: 256, messages: [{ role: 'user', content: 'execute that' }] })
    let text = ''
    stream.on('text', (delta) => (text += delta))
    await stream.finalMessage()
    expectCodeRun(text)
  })

  it('OpenAI Responses, non-stream and stream: the code and its output arrive rendered in the output text', async () => {
    const response = await openai.responses.create({ model: 'gemini-2.5-flash', input: 'run the script' })
    expect(sent(gw).json.tools).toEqual(BOTH)
    expectCodeRun(response.output_text)

    const stream = await openai.responses.create({ model: 'gemini-2.5-flash', input: 'run the script again', stream: true })
    let text = ''
    for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta
    expectCodeRun(text)
  })

  it('URL context only for URL_CONTEXT_MODELS (the model Google gets); code execution for any model', async () => {
    await generate(gw, 'gemini-3-flash-preview', userText('x'))
    expect(sent(gw).json.tools).toEqual([{ codeExecution: {} }])
    await generate(gw, 'gemini-2.5-flash-lite', userText('x'))
    expect(sent(gw).json.tools).toEqual(BOTH)
  })

  it('-search variants get search and URL context, no code execution', async () => {
    await generate(gw, 'gemini-2.5-flash-search', userText('x'))
    expect(sent(gw).model).toBe('gemini-2.5-flash')
    expect(sent(gw).json.tools).toEqual([{ googleSearch: {} }, { urlContext: {} }])
  })

  it('thinking-off variants run code like any other request (gemini-balance\'s "-thinking" rule is not kept)', async () => {
    await generate(gw, 'gemini-2.5-flash-non-thinking', userText('x'))
    expect(sent(gw).model).toBe('gemini-2.5-flash')
    expect(sent(gw).json.tools).toEqual(BOTH)
  })

  it("the client's tools stay first; a tool it offers already (either spelling) is not doubled", async () => {
    await generate(gw, 'gemini-2.5-flash', { ...userText('x'), tools: [{ code_execution: {} }] })
    expect(sent(gw).json.tools).toEqual([{ code_execution: {} }, { urlContext: {} }])
    await generate(gw, 'gemini-2.5-flash', { ...userText('x'), tools: { googleSearch: {} } })
    expect(sent(gw).json.tools).toEqual([{ googleSearch: {} }, ...BOTH])
  })

  it('adds nothing beside function declarations, function calls or JSON mode; the body goes as the client sent it', async () => {
    const bodies = [
      { ...userText('x'), tools: [{ function_declarations: [{ name: 'lookup' }] }] },
      {
        contents: [
          { role: 'user', parts: [{ text: 'look it up' }] },
          { role: 'model', parts: [{ functionCall: { name: 'lookup', args: {} } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'lookup', response: { output: 'found' } } }] },
        ],
      },
      { ...userText('x'), generation_config: { response_mime_type: 'application/json' } },
    ]
    for (const body of bodies) {
      await generate(gw, 'gemini-2.5-flash', body)
      expect(sent(gw).json).toEqual(body)
    }
    await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'run it' }],
      tools: [{ type: 'function', function: { name: 'lookup' } }],
    })
    expect(sent(gw).json.tools).toEqual([{ functionDeclarations: [{ name: 'lookup' }] }])
  })

  it('image models and image output get no tools; images in the prompt (either spelling) keep URL context only', async () => {
    const raw = '{"contents": [{"parts": [{"text": "draw"}]}]}'
    await generate(gw, 'gemini-2.5-flash-image', raw)
    expect(sent(gw).body).toBe(raw)
    const imageOut = { ...userText('draw'), generationConfig: { responseModalities: ['Text', 'Image'] } }
    await generate(gw, 'gemini-2.5-flash', imageOut)
    expect(sent(gw).json).toEqual(imageOut)
    for (const part of [{ inlineData: { mimeType: 'image/png', data: PNG } }, { inline_data: { mime_type: 'image/png', data: PNG } }]) {
      await generate(gw, 'gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ text: 'what is this' }, part] }] })
      expect(sent(gw).json.tools).toEqual([{ urlContext: {} }])
    }
    await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    })
    expect(sent(gw).json.tools).toEqual([{ urlContext: {} }])
  })

  it('countTokens and embeddings go byte for byte', async () => {
    const raw = '{ "contents" : [ { "parts" : [ { "text" : "count" } ] } ] }'
    await post(gw, '/v1beta/models/gemini-2.5-flash:countTokens', raw)
    expect(sent(gw).body).toBe(raw)
    const embed = '{ "content" : { "parts" : [ { "text" : "embed" } ] } }'
    await post(gw, '/v1beta/models/gemini-embedding-001:embedContent', embed)
    expect(sent(gw).body).toBe(embed)
  })
})

describe('tools plugin defaults and URL_CONTEXT_MODELS', () => {
  it('off by default: every request goes byte for byte, the answers carry no code', async () => {
    const gw = await startGateway({ config: { plugins: [tools()] } })
    try {
      const raw = '{ "contents" : [ { "parts" : [ { "text" : "run this" } ] } ] }'
      const res = await generate(gw, 'gemini-2.5-flash', raw)
      expect(sent(gw).body).toBe(raw)
      expect(await res.text()).not.toContain('executableCode')
    } finally {
      await gw.close()
    }
  })

  it('URL_CONTEXT_MODELS picks the models; others keep their exact bytes', async () => {
    const gw = await startGateway({
      env: { URL_CONTEXT_ENABLED: 'true', URL_CONTEXT_MODELS: 'gemini-2.0-flash,gemini-3-flash-preview' },
      config: { plugins: [tools()] },
    })
    try {
      await generate(gw, 'gemini-3-flash-preview', userText('read https://example.com'))
      expect(sent(gw).json.tools).toEqual([{ urlContext: {} }])
      const raw = '{ "contents" : [ { "parts" : [ { "text" : "read" } ] } ] }'
      await generate(gw, 'gemini-2.5-flash', raw)
      expect(sent(gw).body).toBe(raw)
    } finally {
      await gw.close()
    }
  })
})
