import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TOKEN, post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import { SEARCH_SOURCES } from '../../test/fake-upstream/tools.ts'
import search from './index.ts'
import { collectSources, sourcesMarkdown, type Sources } from './internal/sources.ts'

/** What every grounded answer ends with: the fake cites two web sources (on two chunks when streaming). */
const SOURCES = '\n\n---\n\n**Sources:**\n' + SEARCH_SOURCES.map((s) => `\n- [${s.title}](${s.uri})`).join('')
const timesListed = (text: string) => text.split('**Sources:**').length - 1

const sent = (gw: Running) => {
  const seen = gw.upstream.requests.at(-1)!
  return { ...seen, json: JSON.parse(seen.body) }
}

async function nativeNames(gw: Running): Promise<string[]> {
  const names: string[] = []
  for await (const model of await gw.genai().models.list()) names.push(model.name!)
  return names
}

describe('search plugin (defaults: SEARCH_MODELS gemini-2.5-flash, gemini-2.5-pro; SHOW_SEARCH_LINK true)', () => {
  let gw: Running
  let openai: OpenAI
  let anthropic: Anthropic
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [search()] } })
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    anthropic = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('lists each -search variant after its base, in the native and the OpenAI model lists, and only for SEARCH_MODELS', async () => {
    const names = await nativeNames(gw)
    for (const base of ['gemini-2.5-flash', 'gemini-2.5-pro']) {
      expect(names.indexOf(`models/${base}-search`)).toBeGreaterThan(names.indexOf(`models/${base}`))
      expect(names.indexOf(`models/${base}`)).toBeGreaterThanOrEqual(0)
    }
    expect(names.filter((name) => name.endsWith('-search'))).toHaveLength(2)
    const ids: string[] = []
    for await (const model of openai.models.list()) ids.push(model.id)
    expect(ids.indexOf('gemini-2.5-flash-search')).toBeGreaterThan(ids.indexOf('gemini-2.5-flash'))
    expect(ids.indexOf('gemini-2.5-pro-search')).toBeGreaterThan(ids.indexOf('gemini-2.5-pro'))
    expect(ids).not.toContain('gemini-2.5-flash-lite-search')
  })

  it('native: Google gets the base model with googleSearch; the answer keeps its grounding and ends with the sources', async () => {
    const answer = await gw.genai().models.generateContent({ model: 'gemini-2.5-flash-search', contents: 'weather in London' })
    const upstream = sent(gw)
    expect(upstream.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(upstream.json.tools).toEqual([{ googleSearch: {} }])
    const candidate = answer.candidates![0]!
    expect(candidate.groundingMetadata?.groundingChunks).toHaveLength(2)
    expect(candidate.content!.parts!.at(-1)).toEqual({ text: SOURCES })
    expect(answer.text).toBe('Echo: weather in London' + SOURCES)
  })

  it('native stream: grounding on two chunks, the sources listed once, on the last chunk, each uri once', async () => {
    const stream = await gw.genai().models.generateContentStream({ model: 'gemini-2.5-pro-search', contents: 'weather in Paris' })
    const texts: string[] = []
    let grounded = 0
    for await (const chunk of stream) {
      texts.push(chunk.text ?? '')
      if (chunk.candidates?.[0]?.groundingMetadata) grounded++
    }
    expect(sent(gw).path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent')
    expect(sent(gw).json.tools).toEqual([{ googleSearch: {} }])
    expect(grounded).toBe(2)
    expect(texts.at(-1)!.endsWith(SOURCES)).toBe(true)
    expect(texts.join('')).toBe('Echo: weather in Paris' + SOURCES)
  })

  it('native JSON-array stream (no alt=sse) gets the sources once too', async () => {
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash-search:streamGenerateContent', userText('array form'))
    const chunks = (await res.json()) as { candidates: { content: { parts: { text: string }[] } }[] }[]
    const text = chunks.map((c) => c.candidates[0]!.content.parts.map((p) => p.text).join('')).join('')
    expect(text).toBe('Echo: array form' + SOURCES)
  })

  it('OpenAI chat, non-stream and stream: the content ends with the sources, once', async () => {
    const completion = await openai.chat.completions.create({ model: 'gemini-2.5-flash-search', messages: [{ role: 'user', content: 'news today' }] })
    expect(completion.choices[0]!.message.content).toBe('Echo: news today' + SOURCES)
    expect(completion.choices[0]!.finish_reason).toBe('stop')
    expect(sent(gw).path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(sent(gw).json.tools).toEqual([{ googleSearch: {} }])

    const stream = await openai.chat.completions.create({ model: 'gemini-2.5-flash-search', messages: [{ role: 'user', content: 'news now' }], stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toBe('Echo: news now' + SOURCES)
    expect(timesListed(text)).toBe(1)
  })

  it('Anthropic Messages, non-stream and stream: the text ends with the sources, once', async () => {
    const message = await anthropic.messages.create({ model: 'gemini-2.5-pro-search', max_tokens: 256, messages: [{ role: 'user', content: 'who won' }] })
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    expect(text).toBe('Echo: who won' + SOURCES)
    expect(sent(gw).json.tools).toEqual([{ googleSearch: {} }])

    const stream = anthropic.messages.stream({ model: 'gemini-2.5-pro-search', max_tokens: 256, messages: [{ role: 'user', content: 'who lost' }] })
    let streamed = ''
    stream.on('text', (delta) => (streamed += delta))
    await stream.finalMessage()
    expect(streamed).toBe('Echo: who lost' + SOURCES)
    expect(sent(gw).path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent')
  })

  it('OpenAI Responses, non-stream and stream: the output text ends with the sources, once', async () => {
    const response = await openai.responses.create({ model: 'gemini-2.5-flash-search', input: 'stock prices' })
    expect(response.output_text).toBe('Echo: stock prices' + SOURCES)
    expect(sent(gw).json.tools).toEqual([{ googleSearch: {} }])

    const stream = await openai.responses.create({ model: 'gemini-2.5-flash-search', input: 'bond prices', stream: true })
    let deltas = ''
    let final = ''
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') deltas += event.delta
      if (event.type === 'response.output_text.done') final += event.text
    }
    expect(deltas).toBe('Echo: bond prices' + SOURCES)
    expect(final).toBe(deltas)
  })

  it("keeps the client's tools: search joins them, a single Tool becomes a list, a tool already searching is not doubled", async () => {
    await post(gw, '/v1beta/models/gemini-2.5-flash-search:generateContent', { ...userText('x'), tools: [{ codeExecution: {} }] })
    expect(sent(gw).json.tools).toEqual([{ codeExecution: {} }, { googleSearch: {} }])
    await post(gw, '/v1beta/models/gemini-2.5-flash-search:generateContent', { ...userText('x'), tools: { url_context: {} } })
    expect(sent(gw).json.tools).toEqual([{ url_context: {} }, { googleSearch: {} }])
    await post(gw, '/v1beta/models/gemini-2.5-flash-search:generateContent', { ...userText('x'), tools: [{ google_search: {} }] })
    expect(sent(gw).json.tools).toEqual([{ google_search: {} }])
  })

  it("adds no search beside function declarations, function calls or JSON mode (older models refuse the mix); the client's functions stay", async () => {
    const declared = { ...userText('x'), tools: [{ functionDeclarations: [{ name: 'lookup', description: 'looks up' }] }] }
    await post(gw, '/v1beta/models/gemini-2.5-flash-search:generateContent', declared)
    expect(sent(gw).json).toEqual(declared)

    const called = {
      contents: [
        { role: 'user', parts: [{ text: 'look it up' }] },
        { role: 'model', parts: [{ function_call: { name: 'lookup', args: {} } }] },
        { role: 'user', parts: [{ function_response: { name: 'lookup', response: { output: 'found' } } }] },
      ],
    }
    await post(gw, '/v1beta/models/gemini-2.5-flash-search:generateContent', called)
    expect(sent(gw).json).toEqual(called)

    const json = { ...userText('x'), generationConfig: { responseMimeType: 'application/json' } }
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash-search:generateContent', json)
    expect(sent(gw).json).toEqual(json)
    // No search, so nothing to cite.
    expect(timesListed(JSON.stringify(await res.json()))).toBe(0)

    const completion = await openai.chat.completions.create({
      model: 'gemini-2.5-flash-search',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
    })
    expect(completion.choices[0]!.message.content).toBe('Echo: x')
    expect(sent(gw).json.tools).toEqual([
      { functionDeclarations: [{ name: 'lookup', parametersJsonSchema: { type: 'object', properties: { q: { type: 'string' } } } }] },
    ])
  })

  it('leaves other models and other operations byte for byte, and adds nothing to their answers', async () => {
    const raw = '{ "contents" : [ { "parts" : [ { "text" : "plain" } ] } ] }'
    const plain = await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', raw)
    expect(sent(gw).body).toBe(raw)
    expect(timesListed(await plain.text())).toBe(0)
    await post(gw, '/v1beta/models/gemini-2.5-flash-search:countTokens', raw)
    expect(sent(gw).path).toBe('/v1beta/models/gemini-2.5-flash:countTokens')
    expect(sent(gw).body).toBe(raw)
    // A client that brings its own googleSearch gets Google's answer as it is (the grounding metadata is its to use).
    const own = await gw.genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'own search', config: { tools: [{ googleSearch: {} }] } })
    expect(own.candidates![0]!.groundingMetadata).toBeDefined()
    expect(own.text).toBe('Echo: own search')
  })
})

describe('the sources list', () => {
  it('keeps web links only, each uri once, and escapes what would break a markdown link', () => {
    const sources: Sources = new Map()
    const web = (uri: string, title?: string) => ({ web: { uri, title } })
    collectSources(
      {
        groundingMetadata: {
          groundingChunks: [web('https://a.test/x (1)', 'A [one]'), web('javascript:alert(1)', 'evil'), { retrievedContext: { uri: 'https://c.test' } }],
        },
      },
      sources,
    )
    collectSources({ groundingMetadata: { groundingChunks: [web('https://a.test/x (1)', 'A [one]'), web('https://b.test/')] } }, sources)
    expect(sourcesMarkdown(sources)).toBe('\n\n---\n\n**Sources:**\n\n- [A \\[one\\]](https://a.test/x%20%281%29)\n- [https://b.test/](https://b.test/)')
  })
})

describe('search plugin switched by gemini-balance variables', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { SEARCH_MODELS: '["gemini-2.5-pro"]', SHOW_SEARCH_LINK: 'false' }, config: { plugins: [search()] } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('SEARCH_MODELS picks the variants; SHOW_SEARCH_LINK=false leaves the answers as Google sent them', async () => {
    const names = await nativeNames(gw)
    expect(names).toContain('models/gemini-2.5-pro-search')
    expect(names).not.toContain('models/gemini-2.5-flash-search')

    const answer = await gw.genai().models.generateContent({ model: 'gemini-2.5-pro-search', contents: 'no links' })
    expect(sent(gw).json.tools).toEqual([{ googleSearch: {} }])
    expect(answer.candidates![0]!.groundingMetadata?.groundingChunks).toHaveLength(2)
    expect(answer.text).toBe('Echo: no links')

    const stream = await gw.genai().models.generateContentStream({ model: 'gemini-2.5-pro-search', contents: 'no links either' })
    let text = ''
    for await (const chunk of stream) text += chunk.text ?? ''
    expect(text).toBe('Echo: no links either')

    // Not offered any more: the name goes to Google as it is, which knows no such model.
    const refused = await post(gw, '/v1beta/models/gemini-2.5-flash-search:generateContent', userText('x'))
    expect(refused.status).toBe(404)
    expect(sent(gw).model).toBe('gemini-2.5-flash-search')
  })
})
