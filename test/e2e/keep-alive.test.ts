import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { definePlugin } from '../../core/index.ts'
import { Payload } from '../../core/payload.ts'
import { TOKEN, post, startGateway, userText, type Running } from './harness.ts'

/**
 * Streams with keep-alives in them (what fake streaming sends while it waits), read by the official SDKs through a
 * real gateway: each SDK must see exactly the answer, as if no keep-alive had been sent. A raw read of the same
 * stream proves the heartbeats were on the wire.
 */

/** Test plugin: a keep-alive before, between and after the upstream's chunks. */
const heartbeats = definePlugin({
  name: 'heartbeats',
  summary: 'test: puts keep-alives into every stream',
  setup: () => ({
    wrapUpstream: (call) => async (attempt, ctx) => {
      const outcome = await call(attempt, ctx)
      if (outcome.kind !== 'stream') return outcome
      const chunks = outcome.chunks
      async function* withKeepAlives(): AsyncGenerator<Payload> {
        yield Payload.keepAlive
        for await (const chunk of chunks) {
          yield chunk
          yield Payload.keepAlive
        }
      }
      return { kind: 'stream', chunks: withKeepAlives() }
    },
  }),
})

const MODEL = 'gemini-2.5-flash'

describe('keep-alives through the official SDKs', () => {
  let gw: Running

  beforeAll(async () => {
    gw = await startGateway({ config: { plugins: [heartbeats()] } })
  })
  afterAll(() => gw.close())

  const openai = () => new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  const raw = (path: string, body: unknown) => post(gw, path, body, { authorization: `Bearer ${TOKEN}` }).then((res) => res.text())
  /** How many heartbeats of this form the stream had (the fake sends several chunks, each followed by one). */
  const count = (text: string, heartbeat: string) => text.split(heartbeat).length - 1

  it('@google/genai: generateContentStream (alt=sse) reads the answer; the comments were on the wire', async () => {
    let text = ''
    let finish: string | undefined
    for await (const chunk of await gw.genai().models.generateContentStream({ model: MODEL, contents: 'keep me alive' })) {
      text += chunk.text ?? ''
      finish = chunk.candidates?.[0]?.finishReason ?? finish
    }
    expect(text).toBe('Echo: keep me alive')
    expect(finish).toBe('STOP')
    const wire = await raw(`/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, userText('keep me alive'))
    expect(count(wire, ': keep-alive\r\n\r\n')).toBeGreaterThanOrEqual(2)
  })

  it('native JSON array stream (no alt=sse): still one JSON array of the chunks', async () => {
    const wire = await raw(`/v1beta/models/${MODEL}:streamGenerateContent`, userText('keep me alive'))
    const chunks = JSON.parse(wire) as { candidates: { content: { parts: { text: string }[] } }[] }[]
    expect(chunks.map((c) => c.candidates[0]!.content.parts[0]!.text).join('')).toBe('Echo: keep me alive')
    expect(wire).toMatch(/\}\n\n,\n\{/) // a keep-alive's newline between two elements, before the comma
  })

  it('openai chat: the SDK stream reads every delta and the finish_reason', async () => {
    const stream = await openai().chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'keep me alive' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    const finishes: string[] = []
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? ''
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason)
      usage = chunk.usage ?? usage
    }
    expect(text).toBe('Echo: keep me alive')
    expect(finishes).toEqual(['stop'])
    expect(usage?.total_tokens).toBeGreaterThan(0)
    const wire = await raw('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'keep me alive' }], stream: true })
    expect(count(wire, ': keep-alive\n\n')).toBeGreaterThanOrEqual(2)
  })

  it("openai chat: the SDK's stream helper accumulates the same final message", async () => {
    const runner = openai().chat.completions.stream({ model: MODEL, messages: [{ role: 'user', content: 'keep me alive' }] })
    const completion = await runner.finalChatCompletion()
    expect(completion.choices[0]!.message.content).toBe('Echo: keep me alive')
    expect(completion.choices[0]!.finish_reason).toBe('stop')
  })

  it('openai responses: the SDK stream ends in response.completed with the text', async () => {
    const stream = await openai().responses.create({ model: MODEL, input: 'keep me alive', stream: true })
    let text = ''
    let completed: OpenAI.Responses.Response | undefined
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta
      if (event.type === 'response.completed') completed = event.response
    }
    expect(text).toBe('Echo: keep me alive')
    expect(completed?.status).toBe('completed')
    expect(completed?.output).toMatchObject([{ type: 'message', content: [{ type: 'output_text', text: 'Echo: keep me alive' }] }])
    const wire = await raw('/v1/responses', { model: MODEL, input: 'keep me alive', stream: true })
    expect(count(wire, ': keep-alive\n\n')).toBeGreaterThanOrEqual(2)
  })

  it('openai pass-through: the SDK reads the forwarded stream', async () => {
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 })
    let text = ''
    for await (const chunk of await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'keep me alive' }], stream: true })) {
      text += chunk.choices[0]?.delta?.content ?? ''
    }
    expect(text).toBe('Echo: keep me alive')
    const wire = await raw('/openai/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'keep me alive' }], stream: true })
    expect(count(wire, ': keep-alive\n\n')).toBeGreaterThanOrEqual(2)
  })

  it('anthropic: the SDK skips the pings; the stream helper gives the final message', async () => {
    const client = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
    const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'keep me alive' }] })
    let text = ''
    stream.on('text', (delta) => void (text += delta))
    const message = await stream.finalMessage()
    expect(text).toBe('Echo: keep me alive')
    expect(message.content).toMatchObject([{ type: 'text', text: 'Echo: keep me alive' }])
    expect(message.stop_reason).toBe('end_turn')
    const wire = await raw('/v1/messages', { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'keep me alive' }], stream: true })
    expect(count(wire, 'event: ping\ndata: {"type":"ping"}\n\n')).toBeGreaterThanOrEqual(2)
  })
})
