import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin } from '../../core/index.ts'
import modelAlias from '../../plugins/model-alias/index.ts'
import { post, startGateway, userText, type Running } from './harness.ts'

/** The plugin API, driven through the README's example plugin and a chunk/upstream-wrapping plugin. */
describe('plugins', () => {
  let gw: Running
  const seen: string[] = []
  const shout = definePlugin({
    name: 'shout',
    summary: 'test: upper-cases answers',
    setup: () => ({
      transformResponse(response) {
        const part = response.candidates![0]!.content!.parts![0]!
        part.text = part.text!.toUpperCase()
      },
      transformChunk(chunk) {
        const part = chunk.candidates?.[0]?.content?.parts?.[0]
        if (part?.text) part.text = part.text.toUpperCase()
        return chunk
      },
      wrapUpstream: (call) => (attempt, ctx) => {
        seen.push(`${attempt.operation}:${attempt.model}`)
        return call(attempt, ctx)
      },
    }),
  })

  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [modelAlias({ aliases: { fast: 'gemini-2.5-flash-lite' } }), shout()] } })
  })
  afterAll(() => gw.close())

  it('an alias is listed next to its target and served by it', async () => {
    const ai = gw.genai()
    const names: string[] = []
    for await (const model of await ai.models.list()) names.push(model.name!)
    expect(names).toContain('models/fast')
    const fast = await ai.models.get({ model: 'fast' })
    expect(fast.displayName).toBe('fast (Gemini 2.5 Flash-Lite)')
    const answer = await ai.models.generateContent({ model: 'fast', contents: 'quick one' })
    expect(gw.upstream.requests.at(-1)!.model).toBe('gemini-2.5-flash-lite')
    expect(answer.text).toBe('ECHO: QUICK ONE')
  })

  it('response, chunk and upstream hooks run in order', async () => {
    const res = await post(gw, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', userText('loud'))
    const events = (await res.text())
      .split('\r\n\r\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.slice('data: '.length)))
    expect(events.map((e) => e.candidates[0].content.parts[0].text).join('')).toBe('ECHO: LOUD')
    expect(seen.at(-1)).toBe('streamGenerateContent:gemini-2.5-flash')
  })
})
