import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, type Running } from '../../test/e2e/harness.ts'
import { startUploadHost, type UploadHost } from '../../test/e2e/upload-host.ts'
import { generatedPng } from '../../test/fake-upstream/images.ts'
import { registerSecrets } from '../../test/secrets/recorder.ts'
import imageChat from '../image-chat/index.ts'
import imageGeneration from './index.ts'

const PAID_KEY = 'AIzaSy-paid-imagen-key-0000000000000009'
const IMAGEN = 'imagen-3.0-generate-002'
const CHAT = `${IMAGEN}-chat`
const png = (i: number) => generatedPng(i).toString('base64')
const dataMarkdown = (i: number) => `\n\n![image](data:image/png;base64,${png(i)})\n\n`

const sent = (gw: Running) => {
  const seen = gw.upstream.requests.at(-1)!
  return { ...seen, json: JSON.parse(seen.body) }
}
/** The OpenAI SDK's size type has OpenAI's sizes only; Imagen's ratios are accepted too. */
type Size = OpenAI.Images.ImageGenerateParams['size']
const size = (value: string) => value as Size

async function refusal(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(OpenAI.APIError)
  return error as InstanceType<typeof OpenAI.APIError>
}

describe('image generation with PAID_KEY (defaults: CREATE_IMAGE_MODEL imagen-3.0-generate-002)', () => {
  let gw: Running
  let openai: OpenAI
  let anthropic: Anthropic
  beforeAll(async () => {
    registerSecrets([PAID_KEY]) // the leak check looks for it too
    gw = await startGateway({ env: { PAID_KEY }, config: { plugins: [imageChat(), imageGeneration()] } })
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    anthropic = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it("images.generate: Imagen :predict with the paid key, count, aspect ratio and gemini-balance's settings; b64_json back", async () => {
    const result = await openai.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse at dusk', n: 2, size: '1792x1024', response_format: 'b64_json' })
    const upstream = sent(gw)
    expect(upstream.path).toBe(`/v1beta/models/${IMAGEN}:predict`)
    expect(upstream.key).toBe(PAID_KEY)
    expect(upstream.json).toEqual({
      instances: [{ prompt: 'a lighthouse at dusk' }],
      parameters: {
        sampleCount: 2,
        aspectRatio: '16:9',
        outputOptions: { mimeType: 'image/png' },
        safetySetting: 'block_low_and_above',
        personGeneration: 'allow_adult',
      },
    })
    expect(gw.keysUsed()).toEqual([PAID_KEY])
    expect(result.created).toBeGreaterThan(Date.now() / 1000 - 60)
    expect(result.data).toEqual([
      { b64_json: png(0), revised_prompt: 'a lighthouse at dusk' },
      { b64_json: png(1), revised_prompt: 'a lighthouse at dusk' },
    ])
  })

  it('response_format url (the default) without an uploader: data URLs; /hf/v1 is served too', async () => {
    const result = await new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/hf/v1`, maxRetries: 0 }).images.generate({ prompt: 'a cat' })
    expect(result.data).toEqual([{ url: `data:image/png;base64,${png(0)}`, revised_prompt: 'a cat' }])
    expect(sent(gw).json.parameters).toMatchObject({ sampleCount: 1, aspectRatio: '1:1' })
  })

  it.each([
    ['1024x1024', '1:1'],
    ['512x512', '1:1'],
    ['auto', '1:1'],
    ['1792x1024', '16:9'],
    ['1024x1792', '9:16'],
    ['1536x1024', '4:3'],
    ['1024x1536', '3:4'],
    ['1024x768', '4:3'],
    ['3:4', '3:4'],
    ['16:9', '16:9'],
    ['9:16', '9:16'],
  ])('size %s is drawn at %s', async (given, ratio) => {
    await openai.images.generate({ prompt: 'x', size: size(given), response_format: 'b64_json' })
    expect(sent(gw).json.parameters.aspectRatio).toBe(ratio)
  })

  it('{n:K} and {ratio:W:H} in the prompt win over n and size and leave the prompt', async () => {
    const result = await openai.images.generate({ prompt: 'a fox {n:3} in the snow {ratio:9:16}', n: 1, size: '1024x1024', response_format: 'b64_json' })
    expect(sent(gw).json.instances).toEqual([{ prompt: 'a fox in the snow' }])
    expect(sent(gw).json.parameters).toMatchObject({ sampleCount: 3, aspectRatio: '9:16' })
    expect(result.data!.map((image) => image.revised_prompt)).toEqual(['a fox in the snow', 'a fox in the snow', 'a fox in the snow'])
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['no prompt', {}, 'prompt'],
    ['an empty prompt', { prompt: '  ' }, 'prompt'],
    ['a prompt that is only directives', { prompt: '{n:2} {ratio:1:1}' }, 'prompt'],
    ['{n:} out of range', { prompt: 'cat {n:9}' }, 'prompt'],
    ['{ratio:} Imagen does not draw', { prompt: 'cat {ratio:2:1}' }, 'prompt'],
    ['n above 4', { prompt: 'cat', n: 5 }, 'n'],
    ['n of 0', { prompt: 'cat', n: 0 }, 'n'],
    ['n as text', { prompt: 'cat', n: '2' }, 'n'],
    ['a size far from every ratio', { prompt: 'cat', size: '3000x1000' }, 'size'],
    ['a ratio Imagen does not draw', { prompt: 'cat', size: '2:1' }, 'size'],
    ['a size that is no size', { prompt: 'cat', size: 'large' }, 'size'],
    ['an unknown response_format', { prompt: 'cat', response_format: 'png' }, 'response_format'],
    ['a model that is no string', { prompt: 'cat', model: 42 }, 'model'],
    ['a stream asked for', { prompt: 'cat', stream: true }, 'stream'],
  ])("%s: 400 in OpenAI's shape, naming the field, and nothing sent to Google", async (_name, body, param) => {
    const error = await refusal(openai.images.generate(body as never))
    expect(error.status).toBe(400)
    expect(error.error).toMatchObject({ type: 'invalid_request_error', param, code: 'invalid_value' })
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('a body that is not JSON is a 400 too', async () => {
    const res = await post(gw, '/v1/images/generations', '{"prompt": ', { authorization: `Bearer ${TOKEN}` })
    expect(res.status).toBe(400)
    expect((await res.json()).error.type).toBe('invalid_request_error')
  })

  it('a client naming an Imagen model gets that one', async () => {
    await openai.images.generate({ model: 'imagen-4.0-generate-001', prompt: 'x', response_format: 'b64_json' })
    expect(sent(gw).model).toBe('imagen-4.0-generate-001')
    expect(sent(gw).key).toBe(PAID_KEY)
  })

  it('Google refusing the prompt, or filtering every image, is a 400 with its reason', async () => {
    const blocked = 'Image generation failed with the following error: The prompt could not be submitted. Support codes: 42876398'
    gw.upstream.script(PAID_KEY, { status: 400, json: { error: { code: 400, message: blocked, status: 'INVALID_ARGUMENT' } } }, { times: 1 })
    const refused = await refusal(openai.images.generate({ prompt: 'something blocked' }))
    expect(refused.status).toBe(400)
    expect(refused.message).toContain('The prompt could not be submitted')

    const reason = "All images were filtered out because they violated Google's Responsible AI practices."
    gw.upstream.script(PAID_KEY, { json: { predictions: [{ raiFilteredReason: reason }] } }, { times: 1 })
    const filtered = await refusal(openai.images.generate({ prompt: 'something filtered' }))
    expect(filtered.status).toBe(400)
    expect(filtered.error).toMatchObject({ type: 'invalid_request_error', message: `No image was generated: ${reason}` })
  })

  it(`the model lists offer ${CHAT}, though Google does not list ${IMAGEN}`, async () => {
    const ids: string[] = []
    for await (const model of openai.models.list()) ids.push(model.id)
    expect(ids.filter((id) => id === CHAT)).toHaveLength(1)
    expect(ids).not.toContain(IMAGEN)
    const names: string[] = []
    for await (const model of await gw.genai().models.list()) names.push(model.name!)
    expect(names).toContain(`models/${CHAT}`)
    expect((await gw.genai().models.get({ model: CHAT })).supportedActions).toEqual(['generateContent'])
  })

  it(`OpenAI chat on ${CHAT}: Imagen draws the last user message with the paid key; the images come back as markdown`, async () => {
    const completion = await openai.chat.completions.create({
      model: CHAT,
      messages: [
        { role: 'user', content: 'a blue whale' },
        { role: 'assistant', content: 'Here it is.' },
        { role: 'user', content: 'two red squares {n:2} {ratio:4:3}' },
      ],
    })
    const upstream = sent(gw)
    expect(upstream.path).toBe(`/v1beta/models/${IMAGEN}:predict`)
    expect(upstream.key).toBe(PAID_KEY)
    expect(upstream.json.instances).toEqual([{ prompt: 'two red squares' }])
    expect(upstream.json.parameters).toMatchObject({ sampleCount: 2, aspectRatio: '4:3' })
    expect(completion.choices[0]!.message.content).toBe(dataMarkdown(0) + dataMarkdown(1))
    expect(completion.choices[0]!.finish_reason).toBe('stop')
  })

  it(`OpenAI stream on ${CHAT}: the images in the stream, finished with stop`, async () => {
    const stream = await openai.chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: 'a moon' }], stream: true })
    let content = ''
    let finish: string | null | undefined
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
    }
    expect(content).toBe(dataMarkdown(0))
    expect(finish).toBe('stop')
    expect(sent(gw).json.parameters).toMatchObject({ sampleCount: 1, aspectRatio: '1:1' })
  })

  it(`Anthropic on ${CHAT}, unary and streamed`, async () => {
    const message = await anthropic.messages.create({ model: CHAT, max_tokens: 10, messages: [{ role: 'user', content: 'a sun' }] })
    expect(message.content.map((block) => (block.type === 'text' ? block.text : ''))).toEqual([dataMarkdown(0)])
    expect(message.stop_reason).toBe('end_turn')
    const streamed = await anthropic.messages.stream({ model: CHAT, max_tokens: 10, messages: [{ role: 'user', content: 'a star {n:2}' }] }).finalMessage()
    expect(streamed.content.map((block) => (block.type === 'text' ? block.text : '')).join('')).toBe(dataMarkdown(0) + dataMarkdown(1))
  })

  it(`native Gemini on ${CHAT}: inlineData parts, unary and streamed`, async () => {
    const answer = await gw.genai().models.generateContent({ model: CHAT, contents: 'a tree {n:2}' })
    expect(answer.candidates![0]!.finishReason).toBe('STOP')
    expect(answer.candidates![0]!.content!.parts).toEqual([
      { inlineData: { mimeType: 'image/png', data: png(0) } },
      { inlineData: { mimeType: 'image/png', data: png(1) } },
    ])
    const chunks = []
    for await (const chunk of await gw.genai().models.generateContentStream({ model: CHAT, contents: 'a bush' })) chunks.push(chunk)
    expect(chunks).toHaveLength(1)
    expect(chunks[0]!.candidates![0]!.content!.parts).toEqual([{ inlineData: { mimeType: 'image/png', data: png(0) } }])
    expect(gw.keysUsed()).toEqual([PAID_KEY, PAID_KEY])
  })

  it(`${CHAT} refuses a last message without text (400), and says so when Google filtered every image`, async () => {
    const empty = await refusal(
      openai.chat.completions.create({
        model: CHAT,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${png(0)}` } }] }],
      }),
    )
    expect(empty.status).toBe(400)
    expect(gw.upstream.requests).toHaveLength(0)

    gw.upstream.script(PAID_KEY, { json: { predictions: [{ raiFilteredReason: 'Filtered.' }] } }, { times: 1 })
    const completion = await openai.chat.completions.create({ model: CHAT, messages: [{ role: 'user', content: 'x' }] })
    expect(completion.choices[0]!.message.content).toBe('No image was generated: Filtered.')
    expect(completion.choices[0]!.finish_reason).toBe('content_filter')
  })

  // Last: the 429 cools the paid key down, and the harness's reset knows only the gateway's own pool.
  it("the paid key is the only key these requests use: its 429 reaches the client, the gateway's keys stay out of it", async () => {
    gw.upstream.setBehaviour(PAID_KEY, 'rate-minute', { times: 1 })
    const error = await refusal(openai.images.generate({ prompt: 'x' }))
    expect(error.status).toBe(429)
    expect(gw.keysUsed()).toEqual([PAID_KEY])
  })
})

describe('image generation without PAID_KEY, with an uploader, CREATE_IMAGE_MODEL from the environment', () => {
  const IMAGEN4 = 'imagen-4.0-generate-001' // listed by the fake Google
  let gw: Running
  let host: UploadHost
  let openai: OpenAI
  beforeAll(async () => {
    host = await startUploadHost()
    gw = await startGateway({
      env: { CREATE_IMAGE_MODEL: IMAGEN4 },
      config: { plugins: [imageChat(), imageGeneration({ uploadTimeoutSeconds: 3 }), host.plugin()] },
    })
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
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

  it("the gateway's keys draw; url answers are uploaded, in parallel", async () => {
    host.mode = 'hold'
    const opening = setInterval(() => host.waiting() === 2 && host.open(), 5) // answers only once both wait at once
    try {
      const result = await openai.images.generate({ prompt: 'two boats', n: 2, response_format: 'url' })
      expect(result.data).toEqual([
        { url: host.url(png(0)), revised_prompt: 'two boats' },
        { url: host.url(png(1)), revised_prompt: 'two boats' },
      ])
    } finally {
      clearInterval(opening)
    }
    expect(sent(gw).model).toBe(IMAGEN4)
    expect(KEYS).toContain(sent(gw).key)
  })

  it('a failing upload answers that image as a data URL, still 200', async () => {
    host.mode = 'fail'
    const result = await openai.images.generate({ prompt: 'a boat' })
    expect(result.data).toEqual([{ url: `data:image/png;base64,${png(0)}`, revised_prompt: 'a boat' }])
    expect(host.uploads).toHaveLength(1)
  })

  it(`the chat model of a listed Imagen model is listed once, after it; its images are uploaded for chat clients`, async () => {
    const ids: string[] = []
    for await (const model of openai.models.list()) ids.push(model.id)
    expect(ids.filter((id) => id === `${IMAGEN4}-chat`)).toHaveLength(1)
    expect(ids.indexOf(`${IMAGEN4}-chat`)).toBe(ids.indexOf(IMAGEN4) + 1)
    expect(ids).not.toContain(`${IMAGEN}-chat`)

    const completion = await openai.chat.completions.create({ model: `${IMAGEN4}-chat`, messages: [{ role: 'user', content: 'a boat' }] })
    expect(completion.choices[0]!.message.content).toBe(`\n\n![image](${host.url(png(0))})\n\n`)
  })
})
