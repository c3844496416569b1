import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { APIError } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, userText, type Running } from '../../test/e2e/harness.ts'
import fakeStream from './index.ts'

/**
 * Fake streaming through the official SDKs of every dialect, against the fake upstream answering after 0.5 s with
 * keep-alives every 0.2 s: what Google received, the heartbeats on the wire, and the whole answer in the SDKs.
 */

const MODEL = 'gemini-2.5-flash'
const NATIVE_SSE = `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`
const NATIVE_ARRAY = `/v1beta/models/${MODEL}:streamGenerateContent`
// Keep-alives every 0.2 s and answers after 0.5 s: the timings of gemini-balance's defaults, five times faster.
const ENABLED = { FAKE_STREAM_ENABLED: 'true', FAKE_STREAM_EMPTY_DATA_INTERVAL_SECONDS: '0.2' }

/** A thinking answer: gemini-balance kept only parts[0], so its clients saw the thought and lost the text. */
const PARTS = [{ text: 'Weighing it up.', thought: true }, { text: 'The answer ' }, { text: 'is 42.' }]
const USAGE = { promptTokenCount: 7, candidatesTokenCount: 5, totalTokenCount: 16, thoughtsTokenCount: 4 }
const ANSWER = {
  candidates: [{ content: { parts: PARTS, role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: USAGE,
  modelVersion: MODEL,
  responseId: 'fake-stream-answer',
}

const scriptAll = (gw: Running, json: unknown = ANSWER) => {
  for (const key of KEYS) gw.upstream.script(key, { json })
}

/** The upstream calls that reached the fake, as `action?alt`. */
const calls = (gw: Running) => gw.upstream.requests.map((r) => `${r.action}${r.query.alt ? `?alt=${r.query.alt}` : ''}`)

/** Reads a response body as it arrives: the text, and when the first byte came (ms after `since`). */
async function readTimed(res: Response, since: number): Promise<{ text: string; firstByteMs: number }> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let firstByteMs = -1
  for (let step = await reader.read(); !step.done; step = await reader.read()) {
    if (firstByteMs < 0) firstByteMs = performance.now() - since
    text += decoder.decode(step.value, { stream: true })
  }
  return { text, firstByteMs }
}

/** How many keep-alive comments come before the first `data:` event. */
const heartbeatsBeforeData = (text: string) => (text.slice(0, text.indexOf('data:')).match(/^: keep-alive$/gm) ?? []).length

describe('fake streaming, every dialect (answer after 0.5 s, keep-alives every 0.2 s)', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: ENABLED, config: { plugins: [fakeStream()] }, upstream: { latencyMs: 500 } })
  })
  afterAll(() => gw.close())
  beforeEach(() => {
    gw.reset()
    scriptAll(gw)
  })

  it('native SSE: keep-alives go out before the answer, Google got one generateContent call with the client body', async () => {
    const body = userText('what is the answer?')
    const started = performance.now()
    const res = await post(gw, NATIVE_SSE, body)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const { text, firstByteMs } = await readTimed(res, started)
    // The first keep-alive leaves after one interval, long before Google's answer (0.5 s).
    expect(firstByteMs).toBeGreaterThan(160)
    expect(firstByteMs).toBeLessThan(2000)
    expect(text.startsWith(': keep-alive\r\n\r\n')).toBe(true)
    expect(heartbeatsBeforeData(text)).toBeGreaterThanOrEqual(2)
    const events = text
      .split('\r\n\r\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice(6)))
    expect(events.flatMap((e) => e.candidates[0].content.parts)).toEqual(PARTS)
    expect(events.at(-1).candidates[0].finishReason).toBe('STOP')
    expect(events.at(-1).usageMetadata).toEqual(USAGE)
    expect(calls(gw)).toEqual(['generateContent'])
    expect(JSON.parse(gw.upstream.requests[0]!.body)).toEqual(body)
  })

  it('native SSE through @google/genai generateContentStream: every part, the finish reason and the usage', async () => {
    const chunks = []
    const stream = await gw.genai().models.generateContentStream({
      model: MODEL,
      contents: 'what is the answer?',
      config: { thinkingConfig: { includeThoughts: true } },
    })
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? [])).toEqual(PARTS)
    // The SDK's text leaves thoughts out: the answer's text is all there.
    expect(chunks.map((c) => c.text ?? '').join('')).toBe('The answer is 42.')
    expect(chunks.at(-1)!.candidates![0]!.finishReason).toBe('STOP')
    expect(chunks.at(-1)!.usageMetadata).toMatchObject(USAGE)
    expect(chunks.at(-1)!.responseId).toBe('fake-stream-answer')
    expect(calls(gw)).toEqual(['generateContent'])
  })

  it('native JSON array (no alt=sse): keep-alives are newlines inside a valid array of the answer events', async () => {
    const res = await post(gw, NATIVE_ARRAY, userText('what is the answer?'))
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toMatch(/^\[\n\n+\{/)
    const events = JSON.parse(text)
    expect(events.flatMap((e: any) => e.candidates[0].content.parts)).toEqual(PARTS)
    expect(events.at(-1).candidates[0].finishReason).toBe('STOP')
    expect(calls(gw)).toEqual(['generateContent'])
  })

  it('OpenAI chat: keep-alive comments on the wire, then reasoning and content in deltas of their own, a real finish_reason and usage', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'what is the answer?' }] }),
    })
    const text = await res.text()
    expect(heartbeatsBeforeData(text)).toBeGreaterThanOrEqual(2)
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)

    gw.upstream.reset()
    scriptAll(gw)
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const stream = await client.chat.completions.create({
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'what is the answer?' }],
    })
    let content = ''
    let reasoning = ''
    const finishes: (string | null)[] = []
    let usage: OpenAI.CompletionUsage | undefined | null
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage
      for (const choice of chunk.choices) {
        const delta = choice.delta as { content?: string | null; reasoning_content?: string }
        // A client that reads one field per delta still gets both.
        expect(delta.content && delta.reasoning_content).toBeFalsy()
        content += delta.content ?? ''
        reasoning += delta.reasoning_content ?? ''
        if (choice.finish_reason) finishes.push(choice.finish_reason)
      }
    }
    expect(reasoning).toBe('Weighing it up.')
    expect(content).toBe('The answer is 42.')
    expect(finishes).toEqual(['stop'])
    expect(usage).toMatchObject({ prompt_tokens: 7, total_tokens: 16 })
    expect(calls(gw)).toEqual(['generateContent'])
  })

  it('OpenAI chat with n=2: each candidate keeps its own parts and finish reason', async () => {
    // No `index` on the candidates: the second one's text comes in an event of its own, and must not be taken for
    // the first candidate's.
    const candidates = [
      { content: { parts: [{ text: 'First.' }], role: 'model' }, finishReason: 'MAX_TOKENS' },
      { content: { parts: [{ text: 'Hmm.', thought: true }, { text: 'Second.' }], role: 'model' }, finishReason: 'STOP' },
    ]
    scriptAll(gw, { ...ANSWER, candidates })
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: MODEL, n: 2, stream: true, messages: [{ role: 'user', content: 'x' }] })
    const choices = [0, 1].map(() => ({ content: '', reasoning: '', finish: [] as string[] }))
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        const delta = choice.delta as { content?: string | null; reasoning_content?: string }
        choices[choice.index]!.content += delta.content ?? ''
        choices[choice.index]!.reasoning += delta.reasoning_content ?? ''
        if (choice.finish_reason) choices[choice.index]!.finish.push(choice.finish_reason)
      }
    }
    expect(choices).toEqual([
      { content: 'First.', reasoning: '', finish: ['length'] },
      { content: 'Second.', reasoning: 'Hmm.', finish: ['stop'] },
    ])
    expect(JSON.parse(gw.upstream.requests[0]!.body).generationConfig.candidateCount).toBe(2)
  })

  it('Anthropic Messages: pings on the wire, then a thinking block and the text through messages.stream', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'what is the answer?' }] }),
    })
    const text = await res.text()
    expect(text.slice(0, text.indexOf('event: message_start')).match(/^event: ping$/gm)?.length).toBeGreaterThanOrEqual(2)

    gw.upstream.reset()
    scriptAll(gw)
    const client = new Anthropic({ apiKey: TOKEN, baseURL: gw.url, maxRetries: 0 })
    const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'what is the answer?' }] })
    let deltas = ''
    stream.on('text', (delta) => (deltas += delta))
    const message = await stream.finalMessage()
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text'])
    expect(message.content[0]).toMatchObject({ type: 'thinking', thinking: 'Weighing it up.' })
    expect(message.content[1]).toMatchObject({ type: 'text', text: 'The answer is 42.' })
    expect(deltas).toBe('The answer is 42.')
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage).toMatchObject({ input_tokens: 7, output_tokens: 9 })
    expect(calls(gw)).toEqual(['generateContent'])
  })

  it('OpenAI Responses: reasoning and message items, a completed response with usage', async () => {
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const stream = client.responses.stream({ model: MODEL, input: 'what is the answer?' })
    let deltas = ''
    stream.on('response.output_text.delta', (event) => (deltas += event.delta))
    const response = await stream.finalResponse()
    expect(response.status).toBe('completed')
    expect(response.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
    expect(response.output_text).toBe('The answer is 42.')
    expect(deltas).toBe('The answer is 42.')
    expect(JSON.stringify(response.output[0])).toContain('Weighing it up.')
    expect(response.usage).toMatchObject({ input_tokens: 7, total_tokens: 16 })
    expect(calls(gw)).toEqual(['generateContent'])
  })

  it('a failure after keep-alives ends the stream with an error event, not a clean end', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'location')
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const stream = await client.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'x' }] })
    const read = async () => {
      for await (const _chunk of stream) void _chunk
    }
    const error = await read().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(APIError)
    expect(String((error as APIError).message)).toContain('location is not supported')
  })

  it('a non-stream request is left alone', async () => {
    const res = await post(gw, `/v1beta/models/${MODEL}:generateContent`, userText('x'))
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await res.json()).toEqual(ANSWER)
    expect(calls(gw)).toEqual(['generateContent'])
  })

  it('the OpenAI pass-through streams for real', async () => {
    const res = await fetch(`${gw.url}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    })
    await res.text()
    expect(gw.upstream.requests.map((r) => r.action)).toEqual(['chat/completions'])
    expect(JSON.parse(gw.upstream.requests[0]!.body).stream).toBe(true)
  })
})

describe('fake streaming: retries while the keep-alives flow', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({
      // The stream optimizer sits outside fake streaming: it must pass the keep-alives and smooth the answer.
      env: { ...ENABLED, STREAM_OPTIMIZER_ENABLED: 'true', STREAM_MIN_DELAY: '0.001', STREAM_MAX_DELAY: '0.001' },
      config: { plugins: [fakeStream()] },
      upstream: { latencyMs: 500 },
    })
  })
  afterAll(() => gw.close())

  it('a 429 on the first key is retried on the second while the stream stays open', async () => {
    // A fresh pool hands out its keys in order.
    gw.upstream.setBehaviour(KEYS[0]!, 'rate-minute', { times: 1 })
    scriptAll(gw, { ...ANSWER, candidates: [{ content: { parts: [{ text: 'From the second key.' }], role: 'model' }, finishReason: 'STOP', index: 0 }] })
    const res = await post(gw, NATIVE_SSE, userText('x'))
    expect(res.status).toBe(200)
    const text = await res.text()
    // 0.5 s for the 429 and 0.5 s for the answer: about four keep-alives, none of them lost in the retry.
    expect(heartbeatsBeforeData(text)).toBeGreaterThanOrEqual(4)
    expect(text).not.toContain('RESOURCE_EXHAUSTED')
    const events = text
      .split('\r\n\r\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => JSON.parse(e.slice(6)))
    // Smoothed into pieces by the stream optimizer, and all there.
    expect(events.length).toBeGreaterThan(1)
    expect(events.map((e) => e.candidates[0].content.parts[0].text).join('')).toBe('From the second key.')
    expect(events.at(-1).candidates[0].finishReason).toBe('STOP')
    expect(gw.keysUsed()).toEqual([KEYS[0], KEYS[1]])
    expect(calls(gw)).toEqual(['generateContent', 'generateContent'])
  })
})

describe('fake streaming: an answer or failure before the first keep-alive', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ env: { FAKE_STREAM_ENABLED: 'true' }, config: { plugins: [fakeStream()] } })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('a quick answer is streamed at once, without keep-alives', async () => {
    scriptAll(gw)
    const res = await post(gw, NATIVE_SSE, userText('x'))
    const text = await res.text()
    expect(text.startsWith('data: ')).toBe(true)
    expect(text).not.toContain('keep-alive')
    expect(calls(gw)).toEqual(['generateContent'])
  })

  it('a quick failure keeps its HTTP status, as a real stream request would', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'location')
    const res = await post(gw, NATIVE_SSE, userText('x'))
    expect(res.status).toBe(400)
    expect((await res.json()).error.status).toBe('FAILED_PRECONDITION')
  })
})

describe('fake streaming: off', () => {
  it('listed but not enabled (the default), a stream request streams from Google', async () => {
    const gw = await startGateway({ config: { plugins: [fakeStream()] } })
    try {
      const res = await post(gw, NATIVE_SSE, userText('x'))
      await res.text()
      expect(calls(gw)).toEqual(['streamGenerateContent?alt=sse'])
    } finally {
      await gw.close()
    }
  })

  it('an interval outside 1..60 stops the start, naming the variable', async () => {
    await expect(startGateway({ env: { ...ENABLED, FAKE_STREAM_EMPTY_DATA_INTERVAL_SECONDS: '0' }, config: { plugins: [fakeStream()] } })).rejects.toThrow(
      /FAKE_STREAM_EMPTY_DATA_INTERVAL_SECONDS/,
    )
  })
})

describe('fake streaming: the client leaving', () => {
  it('cancels the call to Google at once and logs the attempt as cancelled', async () => {
    // A stand-in Google that takes 5 s to answer and notes when the gateway hangs up.
    const seen: string[] = []
    let closedAfter = -1
    const slow = createServer((req, res) => {
      const opened = performance.now()
      seen.push(req.url ?? '')
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ANSWER)), 5000)
      res.on('close', () => {
        clearTimeout(timer)
        closedAfter = performance.now() - opened
      })
      req.resume()
    })
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve))
    const gw = await startGateway({
      env: { ...ENABLED, BASE_URL: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/v1beta` },
      config: { plugins: [fakeStream()] },
    })
    try {
      const leave = new AbortController()
      const res = await post(gw, NATIVE_SSE, userText('x'), {}, leave.signal)
      const reader = res.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toContain(': keep-alive')
      leave.abort()
      // oxlint-disable-next-line no-unmodified-loop-condition -- the upstream's close handler sets it
      for (let i = 0; i < 40 && closedAfter < 0; i++) await new Promise((r) => setTimeout(r, 50))
      expect(seen).toEqual([`/v1beta/models/${MODEL}:generateContent`])
      expect(closedAfter).toBeGreaterThan(160)
      expect(closedAfter).toBeLessThan(2500)
      await gw.gateway.logs.flush()
      const { rows } = await gw.gateway.database.db.sql`SELECT operation, failure_class FROM request_logs`
      expect(rows).toEqual([{ operation: 'generateContent', failure_class: 'client-cancelled' }])
    } finally {
      await gw.close()
      slow.close()
    }
  })
})
