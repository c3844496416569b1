import Anthropic from '@anthropic-ai/sdk'
import { createConsola } from 'consola'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, startGateway, type Running } from '../../test/e2e/harness.ts'
import { startUploadHost, type UploadHost } from '../../test/e2e/upload-host.ts'
import { generatedPng } from '../../test/fake-upstream/images.ts'
import imageChat from './index.ts'
import { imageUrl as urlOf, type Uploader } from 'gemgate'

const PREVIEW = 'gemini-2.5-flash-image-preview'
const PNG0 = generatedPng(0).toString('base64')
const PNG1 = generatedPng(1).toString('base64')
const dataMarkdown = (png: string) => `![image](data:image/png;base64,${png})`

const sent = (gw: Running) => {
  const seen = gw.upstream.requests.at(-1)!
  return { ...seen, json: JSON.parse(seen.body) }
}
const scriptAll = (gw: Running, answer: { json?: unknown; chunks?: unknown[] }) => {
  for (const key of KEYS) gw.upstream.script(key, answer)
}
const clients = (gw: Running) => ({
  openai: new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 }),
  anthropic: new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 }),
})
const candidate = (parts: unknown[], finishReason?: string) => ({
  candidates: [{ content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}), index: 0 }],
  modelVersion: PREVIEW,
})
const image = (png: string) => ({ inlineData: { mimeType: 'image/png', data: png } })

describe('image-chat without an uploader (defaults: IMAGE_MODELS gemini-2.0-flash-exp, gemini-2.5-flash-image-preview)', () => {
  let gw: Running
  let openai: OpenAI
  let anthropic: Anthropic
  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [imageChat()] } })
    ;({ openai, anthropic } = clients(gw))
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('native -image: Google gets the base model asked for text and images, the system instruction kept; inlineData comes back untouched', async () => {
    const answer = await gw.genai().models.generateContent({
      model: `${PREVIEW}-image`,
      contents: 'draw a cat',
      config: { systemInstruction: 'You draw cats.', temperature: 0.5 },
    })
    const upstream = sent(gw)
    expect(upstream.model).toBe(PREVIEW)
    expect(upstream.json.generationConfig).toEqual({ temperature: 0.5, responseModalities: ['TEXT', 'IMAGE'] })
    expect(upstream.json.systemInstruction.parts[0].text).toBe('You draw cats.')
    const parts = answer.candidates![0]!.content!.parts!
    expect(parts[0]!.text).toBe('Echo: draw a cat')
    expect(parts[1]!.inlineData).toEqual({ mimeType: 'image/png', data: PNG0 })
  })

  it('native stream on gemini-2.0-flash-exp-image: the image chunk arrives as Google sent it', async () => {
    const stream = await gw.genai().models.generateContentStream({ model: 'gemini-2.0-flash-exp-image', contents: 'fireworks' })
    const parts = []
    for await (const chunk of stream) parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []))
    expect(sent(gw).model).toBe('gemini-2.0-flash-exp')
    expect(sent(gw).json.generationConfig.responseModalities).toEqual(['TEXT', 'IMAGE'])
    expect(parts.find((part) => part.inlineData)?.inlineData).toEqual({ mimeType: 'image/png', data: PNG0 })
  })

  it('modalities the client chose stay when they ask for images; ones that do not are replaced', async () => {
    await gw.genai().models.generateContent({ model: `${PREVIEW}-image`, contents: 'x', config: { responseModalities: ['IMAGE'] } })
    expect(sent(gw).json.generationConfig.responseModalities).toEqual(['IMAGE'])
    await gw.genai().models.generateContent({ model: `${PREVIEW}-image`, contents: 'x', config: { responseModalities: ['TEXT'] } })
    expect(sent(gw).json.generationConfig.responseModalities).toEqual(['TEXT', 'IMAGE'])
  })

  it('the base model without the suffix goes to Google byte for byte', async () => {
    const raw = '{ "contents" : [ { "parts" : [ { "text" : "as sent" } ] } ] }'
    const res = await fetch(`${gw.url}/v1beta/models/${PREVIEW}:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': TOKEN }, body: raw })
    expect(res.status).toBe(200)
    expect(sent(gw).body).toBe(raw)
  })

  it('OpenAI chat on -image: the image is a markdown data URL after the text; the system message reached Google', async () => {
    const completion = await openai.chat.completions.create({
      model: `${PREVIEW}-image`,
      messages: [
        { role: 'system', content: 'You draw cats.' },
        { role: 'user', content: 'draw a cat' },
      ],
    })
    expect(sent(gw).json.generationConfig.responseModalities).toEqual(['TEXT', 'IMAGE'])
    expect(sent(gw).json.systemInstruction.parts[0].text).toBe('You draw cats.')
    const content = completion.choices[0]!.message.content!
    expect(content).toBe(`Echo: draw a cat\n\n${dataMarkdown(PNG0)}\n\n`)
    expect(completion.choices[0]!.finish_reason).toBe('stop')
  })

  it('OpenAI stream on -image: the markdown image arrives in the stream, which finishes with stop', async () => {
    const stream = await openai.chat.completions.create({ model: `${PREVIEW}-image`, messages: [{ role: 'user', content: 'draw' }], stream: true })
    let content = ''
    let finish: string | null | undefined
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(content).toBe(`Echo: draw\n\n${dataMarkdown(PNG0)}\n\n`)
    expect(finish).toBe('stop')
  })

  it('Anthropic, unary and streamed: the image is in the text (the Messages API has no block for a generated image)', async () => {
    const message = await anthropic.messages.create({ model: `${PREVIEW}-image`, max_tokens: 100, messages: [{ role: 'user', content: 'draw' }] })
    const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    expect(text).toBe(`Echo: draw\n\n${dataMarkdown(PNG0)}\n\n`)

    const stream = anthropic.messages.stream({ model: `${PREVIEW}-image`, max_tokens: 100, messages: [{ role: 'user', content: 'again' }] })
    const streamed = (await stream.finalMessage()).content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    expect(streamed).toBe(`Echo: again\n\n${dataMarkdown(PNG0)}\n\n`)
  })

  it('Responses API: the image is in output_text', async () => {
    const response = await openai.responses.create({ model: `${PREVIEW}-image`, input: 'draw' })
    expect(response.output_text).toBe(`Echo: draw\n\n${dataMarkdown(PNG0)}\n\n`)
  })

  it('images of a model asked without the suffix (gemini-2.5-flash-image answers with images by default) become markdown too', async () => {
    const completion = await openai.chat.completions.create({ model: 'gemini-2.5-flash-image', messages: [{ role: 'user', content: 'banana' }] })
    expect(sent(gw).json.generationConfig).toBeUndefined()
    expect(completion.choices[0]!.message.content).toBe(`Echo: banana\n\n${dataMarkdown(PNG0)}\n\n`)
  })

  it('a thought image (a draft) is left to the dialect, which does not show it; a signature on an image stays with its markdown', async () => {
    scriptAll(gw, {
      json: candidate(
        [
          { ...image(PNG1), thought: true },
          { ...image(PNG0), thoughtSignature: 'sig-1' },
        ],
        'STOP',
      ),
    })
    const completion = await openai.chat.completions.create({ model: `${PREVIEW}-image`, messages: [{ role: 'user', content: 'x' }] })
    const message = completion.choices[0]!.message as unknown as { content: string; extra_content?: unknown }
    expect(message.content).toBe(`\n\n${dataMarkdown(PNG0)}\n\n`)
    expect(message.extra_content).toEqual({ google: { thought_signature: 'sig-1' } })
  })
})

describe('image-chat options from the environment', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { IMAGE_MODELS: '["gemini-2.5-flash-image"]' }, config: { plugins: [imageChat()] } })
  })
  afterAll(() => gw.close())

  it('IMAGE_MODELS chooses the models listed with -image and accepted', async () => {
    const names: string[] = []
    for await (const model of await gw.genai().models.list()) names.push(model.name!)
    expect(names.filter((name) => name.endsWith('-image') && name !== 'models/gemini-2.5-flash-image')).toEqual(['models/gemini-2.5-flash-image-image'])
    expect(names.indexOf('models/gemini-2.5-flash-image-image')).toBeGreaterThan(names.indexOf('models/gemini-2.5-flash-image'))
    const ids: string[] = []
    for await (const model of clients(gw).openai.models.list()) ids.push(model.id)
    expect(ids).toContain('gemini-2.5-flash-image-image')

    await gw.genai().models.generateContent({ model: 'gemini-2.5-flash-image-image', contents: 'x' })
    expect(sent(gw).model).toBe('gemini-2.5-flash-image')
    expect(sent(gw).json.generationConfig.responseModalities).toEqual(['TEXT', 'IMAGE'])
  })
})

describe('image-chat with an uploader', () => {
  let gw: Running
  let host: UploadHost
  let openai: OpenAI
  let anthropic: Anthropic
  beforeAll(async () => {
    host = await startUploadHost()
    // The uploader is listed after image-chat: the service is looked up when an answer needs it.
    gw = await startGateway({ config: { plugins: [imageChat({ uploadTimeoutSeconds: 3 }), host.plugin()] } })
    ;({ openai, anthropic } = clients(gw))
  })
  afterAll(async () => {
    await gw.close()
    await host.close()
  })
  beforeEach(() => {
    gw.reset()
    host.uploads.length = 0
    host.mode = 'ok'
  })

  it('OpenAI: the images of one answer upload in parallel, and each URL lands where its image was', async () => {
    scriptAll(gw, { json: candidate([{ text: 'Two:' }, image(PNG0), image(PNG1)], 'STOP') })
    host.mode = 'hold'
    const opening = setInterval(() => host.waiting() === 2 && host.open(), 5) // answers only once both wait at once
    try {
      const completion = await openai.chat.completions.create({ model: `${PREVIEW}-image`, messages: [{ role: 'user', content: 'two' }] })
      expect(completion.choices[0]!.message.content).toBe(`Two:\n\n![image](${host.url(PNG0)})\n\n\n\n![image](${host.url(PNG1)})\n\n`)
    } finally {
      clearInterval(opening)
    }
    expect(host.uploads.map((u) => u.mimeType)).toEqual(['image/png', 'image/png'])
  })

  it('a stream chunk waits only for its own upload: text before the image reaches the client while the upload is held', async () => {
    scriptAll(gw, { chunks: [candidate([{ text: 'before ' }]), candidate([image(PNG0)]), candidate([{ text: ' after' }], 'STOP')] })
    host.mode = 'hold'
    const stream = await openai.chat.completions.create({ model: `${PREVIEW}-image`, messages: [{ role: 'user', content: 'x' }], stream: true })
    let content = ''
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? ''
      // Uploads are answered only once the text arrived: had the text waited for the upload, the upload would time out.
      if (content === 'before ') {
        host.mode = 'ok'
        host.open()
      }
    }
    expect(content).toBe(`before \n\n![image](${host.url(PNG0)})\n\n after`)
  })

  it('Anthropic stream: uploaded URL in the text', async () => {
    const stream = anthropic.messages.stream({ model: `${PREVIEW}-image`, max_tokens: 100, messages: [{ role: 'user', content: 'cat' }] })
    const text = (await stream.finalMessage()).content.map((block) => (block.type === 'text' ? block.text : '')).join('')
    expect(text).toBe(`Echo: cat\n\n![image](${host.url(PNG0)})\n\n`)
  })

  it('a failing upload never fails the answer: 200 with the image as a data URL, unary and streamed', async () => {
    host.mode = 'fail'
    const completion = await openai.chat.completions.create({ model: `${PREVIEW}-image`, messages: [{ role: 'user', content: 'cat' }] })
    expect(completion.choices[0]!.message.content).toBe(`Echo: cat\n\n${dataMarkdown(PNG0)}\n\n`)
    const message = await anthropic.messages.stream({ model: `${PREVIEW}-image`, max_tokens: 100, messages: [{ role: 'user', content: 'dog' }] }).finalMessage()
    expect(message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')).toBe(`Echo: dog\n\n${dataMarkdown(PNG0)}\n\n`)
    expect(host.uploads).toHaveLength(2)
  })

  it('native clients get inlineData, and nothing is uploaded for them', async () => {
    const answer = await gw.genai().models.generateContent({ model: `${PREVIEW}-image`, contents: 'cat' })
    expect(answer.candidates![0]!.content!.parts![1]!.inlineData!.data).toBe(PNG0)
    expect(host.uploads).toHaveLength(0)
  })
})

describe('one image upload (urlOf)', () => {
  const png = { mimeType: 'image/png', data: PNG0 }
  const logged: string[] = []
  const logger = createConsola({ level: 5, reporters: [{ log: (entry) => void logged.push(`${entry.type}: ${entry.args.join(' ')}`) }] })
  const options = { signal: new AbortController().signal, timeoutMs: 200, logger }
  beforeEach(() => void (logged.length = 0))

  it("answers the uploader's URL, with parentheses escaped for markdown", async () => {
    const uploader: Uploader = { upload: async (bytes, mimeType) => `https://img.example/a(1).png?type=${mimeType}&size=${bytes.length}` }
    expect(await urlOf(png, uploader, options)).toBe(`https://img.example/a%281%29.png?type=image/png&size=${generatedPng(0).length}`)
    expect(logged).toEqual([])
  })

  it.each<[string, Uploader, RegExp]>([
    ['throws', { upload: async () => Promise.reject(new Error('quota exceeded')) }, /quota exceeded/],
    ['answers no URL', { upload: async () => 'javascript:alert(1)' }, /not an http\(s\) URL/],
    ['never answers (and ignores the signal)', { upload: () => new Promise<string>(() => {}) }, /upload timeout/],
  ])('falls back to the data URL when the uploader %s, and logs why', async (_name, uploader, reason) => {
    expect(await urlOf(png, uploader, options)).toBe(`data:image/png;base64,${PNG0}`)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/^warn: image upload failed/)
    expect(logged[0]).toMatch(reason)
  })
})
