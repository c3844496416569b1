import Anthropic from '@anthropic-ai/sdk'
import { ApiError } from '@google/genai'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import search from '../../plugins/search/index.ts'
import thinking from '../../plugins/thinking/index.ts'
import { TOKEN, startGateway, type Running } from './harness.ts'

/**
 * Model suffixes of two bundled plugins (search's `-search`, thinking's `-non-thinking`) on one gateway: combined in
 * either order they reach Google as the base model with both features; a name one of whose suffixes is not offered
 * for its base is refused in the client's own dialect, and nothing is sent to Google for it.
 */
describe('model variants of several plugins', () => {
  let gw: Running
  let openai: OpenAI
  let anthropic: Anthropic

  beforeAll(async () => {
    gw = await startGateway({
      // SEARCH_MODELS keeps its default (gemini-2.5-flash, gemini-2.5-pro): flash-lite has no -search variant.
      env: { THINKING_MODELS: 'gemini-2.5-flash,gemini-2.5-flash-lite', THINKING_BUDGET_MAP: '{"gemini-2.5-flash": 2048}' },
      config: { plugins: [search(), thinking()] },
    })
    openai = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    anthropic = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  const received = () => {
    const seen = gw.upstream.requests.at(-1)!
    const body = JSON.parse(seen.body)
    return { model: seen.model, action: seen.action, tools: body.tools, thinkingConfig: body.generationConfig?.thinkingConfig }
  }

  it.each(['gemini-2.5-flash-search-non-thinking', 'gemini-2.5-flash-non-thinking-search'])(
    '%s reaches Google as gemini-2.5-flash with search and thinking off',
    async (model) => {
      const both = { model: 'gemini-2.5-flash', tools: [{ googleSearch: {} }], thinkingConfig: { thinkingBudget: 0 } }

      const answer = await gw.genai().models.generateContent({ model, contents: 'news today' })
      expect(answer.text).toMatch(/^Echo: news today\n\n---\n\n\*\*Sources:\*\*\n/) // the search plugin listed the sources
      expect(received()).toEqual({ ...both, action: 'generateContent' })

      let text = ''
      for await (const chunk of await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'news now' }], stream: true }))
        text += chunk.choices[0]?.delta?.content ?? ''
      expect(text).toMatch(/^Echo: news now\n\n---\n\n\*\*Sources:\*\*\n/)
      expect(received()).toEqual({ ...both, action: 'streamGenerateContent' })

      const message = await anthropic.messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'news' }] })
      expect(message.model).toBe(model)
      expect(received()).toMatchObject(both)
    },
  )

  it('a -search request of a model in THINKING_BUDGET_MAP gets the budget of its real model (gemini-balance fell back to 1000)', async () => {
    await gw.genai().models.generateContent({ model: 'gemini-2.5-flash-search', contents: 'x' })
    expect(received()).toMatchObject({
      model: 'gemini-2.5-flash',
      tools: [{ googleSearch: {} }],
      thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
    })
  })

  it("a name mixing an offered and an unoffered suffix gets a 400 in each dialect's error shape, and Google is never asked", async () => {
    const model = 'gemini-2.5-flash-lite-search-non-thinking' // -non-thinking is offered for flash-lite, -search is not
    const reason = '"-search" is not offered for gemini-2.5-flash-lite'

    const native = await gw
      .genai()
      .models.generateContent({ model, contents: 'x' })
      .catch((error: unknown) => error)
    expect(native).toBeInstanceOf(ApiError)
    expect((native as ApiError).status).toBe(400)
    const nativeBody = JSON.parse((native as ApiError).message.slice((native as ApiError).message.indexOf('{')))
    expect(nativeBody).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } })
    expect(nativeBody.error.message).toContain(reason)

    const chat = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], stream: true }).catch((error: unknown) => error)
    expect(chat).toBeInstanceOf(OpenAI.APIError)
    expect(chat).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'model' })
    expect((chat as InstanceType<typeof OpenAI.APIError>).message).toContain(reason)

    const responses = await openai.responses.create({ model, input: 'x' }).catch((error: unknown) => error)
    expect(responses).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'model', message: expect.stringContaining(reason) })

    const messages = await anthropic.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error)
    expect(messages).toBeInstanceOf(Anthropic.APIError)
    expect(messages).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } } })
    expect((messages as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ error: { message: expect.stringContaining(reason) } })

    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('each variant is listed after its base, and a combination only where both suffixes are offered is not listed at all', async () => {
    const ids = (await openai.models.list()).data.map((model) => model.id)
    for (const variant of ['gemini-2.5-flash-search', 'gemini-2.5-flash-non-thinking', 'gemini-2.5-flash-lite-non-thinking', 'gemini-2.5-pro-search']) {
      expect(ids.indexOf(variant)).toBeGreaterThan(ids.indexOf(variant.replace(/-(search|non-thinking)$/, '')))
    }
    expect(ids).not.toContain('gemini-2.5-flash-lite-search')
  })
})
