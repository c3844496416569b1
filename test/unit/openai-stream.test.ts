import { describe, expect, it } from 'vitest'
import type { ChatOptions } from '../../core/dialects/openai/request.ts'
import { encodeStream } from '../../core/dialects/openai/stream.ts'
import { GatewayError } from '../../core/errors.ts'
import { Payload } from '../../core/payload.ts'

const options = (extra: Partial<ChatOptions> = {}): ChatOptions => ({ kind: 'chat', model: 'gpt-ish', n: 1, includeUsage: false, ...extra })

const chunk = (parts: unknown[] | undefined, extra: Record<string, unknown> = {}, usage?: Record<string, number>) => ({
  candidates: [{ ...(parts ? { content: { parts, role: 'model' } } : {}), index: 0, ...extra }],
  ...(usage ? { usageMetadata: usage } : {}),
  modelVersion: 'gemini-2.5-flash',
  responseId: 'R1',
})

async function* from(items: unknown[], failure?: Error): AsyncGenerator<Payload> {
  for (const item of items) yield item instanceof Payload ? item : typeof item === 'string' ? Payload.fromText(item) : Payload.fromData(item)
  if (failure) throw failure
}

async function streamText(items: unknown[], opts = options(), failure?: Error): Promise<string> {
  let text = ''
  for await (const piece of encodeStream(from(items, failure), opts)) text += piece
  return text
}

/** The SSE text, as a list of parsed events (or '[DONE]'), with the framing checked on the way. */
async function events(items: unknown[], opts = options(), failure?: Error): Promise<unknown[]> {
  return parse(await streamText(items, opts, failure))
}

function parse(text: string): unknown[] {
  expect(text.endsWith('\n\n')).toBe(true)
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true)
      const data = event.slice(6)
      return data === '[DONE]' ? data : JSON.parse(data)
    })
}

const env = { id: 'chatcmpl-R1', object: 'chat.completion.chunk', created: expect.any(Number), model: 'gpt-ish' }
const choice = (delta: Record<string, unknown>, finish: string | null = null, index = 0) => ({
  ...env,
  choices: [{ index, delta, logprobs: null, finish_reason: finish }],
})

describe('Gemini chunks → chat.completion.chunk events', () => {
  it('text: role in the first delta, content deltas, a closing chunk with the real finish_reason, [DONE]', async () => {
    expect(await events([chunk([{ text: 'Hel' }]), chunk([{ text: 'lo' }]), chunk([{ text: '!' }], { finishReason: 'STOP' })])).toEqual([
      choice({ role: 'assistant', content: 'Hel' }),
      choice({ content: 'lo' }),
      choice({ content: '!' }),
      choice({}, 'stop'),
      '[DONE]',
    ])
  })

  it('thinking: reasoning_content deltas, then content; usage chunk when asked, with reasoning tokens', async () => {
    const usage = { promptTokenCount: 51, candidatesTokenCount: 7, thoughtsTokenCount: 20, totalTokenCount: 78 }
    const out = await events(
      [
        chunk([{ text: '**Plan**', thought: true }], {}, { promptTokenCount: 51, thoughtsTokenCount: 20, totalTokenCount: 71 }),
        chunk([{ text: 'The answer' }], {}, usage),
        chunk([{ text: ' is 5.' }], { finishReason: 'STOP' }, usage),
      ],
      options({ includeUsage: true }),
    )
    expect(out).toEqual([
      { ...choice({ role: 'assistant', content: '', reasoning_content: '**Plan**' }), usage: null },
      { ...choice({ content: 'The answer' }), usage: null },
      { ...choice({ content: ' is 5.' }), usage: null },
      { ...choice({}, 'stop'), usage: null },
      {
        ...env,
        choices: [],
        usage: {
          prompt_tokens: 51,
          completion_tokens: 27,
          total_tokens: 78,
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 20 },
        },
      },
      '[DONE]',
    ])
  })

  it('parallel function calls (Gemini 3): one complete tool call delta each, indexes 0..n, finish tool_calls; final empty text with signature', async () => {
    const out = await events([
      chunk([{ functionCall: { name: 'sum', args: { b: 3, a: 2 }, id: '3ae8iwca' }, thoughtSignature: 'SIG' }]),
      chunk([{ functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } }]),
      chunk([{ functionCall: { name: 'sum', args: { b: 7, a: 6 }, id: 'ycroch25' } }]),
      chunk([{ text: '', thoughtSignature: 'END' }], { finishReason: 'STOP' }),
    ])
    expect(out).toEqual([
      choice({
        role: 'assistant',
        tool_calls: [
          {
            index: 0,
            id: '3ae8iwca__thought__SIG',
            type: 'function',
            function: { name: 'sum', arguments: '{"b":3,"a":2}' },
            extra_content: { google: { thought_signature: 'SIG' } },
          },
        ],
      }),
      choice({ tool_calls: [{ index: 1, id: 'up3kf30e', type: 'function', function: { name: 'sum', arguments: '{"a":4,"b":5}' } }] }),
      choice({ tool_calls: [{ index: 2, id: 'ycroch25', type: 'function', function: { name: 'sum', arguments: '{"b":7,"a":6}' } }] }),
      choice({ extra_content: { google: { thought_signature: 'END' } } }),
      choice({}, 'tool_calls'),
      '[DONE]',
    ])
  })

  it('Gemini 3 opening with an empty text part still gives the role first; a text answer ending in an empty signed part', async () => {
    const out = await events([chunk([{ text: '' }]), chunk([{ text: 'Hi' }]), chunk([{ text: '', thoughtSignature: 'S' }], { finishReason: 'STOP' })])
    expect(out).toEqual([
      choice({ role: 'assistant', content: '' }),
      choice({ content: 'Hi' }),
      choice({ extra_content: { google: { thought_signature: 'S' } } }),
      choice({}, 'stop'),
      '[DONE]',
    ])
  })

  it('MAX_TOKENS ends with length', async () => {
    const out = await events([chunk([{ text: 'a' }]), chunk([{ text: 'b' }], { finishReason: 'MAX_TOKENS' })])
    expect(out.at(-2)).toEqual(choice({}, 'length'))
  })

  it('a blocked prompt: content_filter with empty content, then usage and [DONE]', async () => {
    const out = await events(
      [{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 }, responseId: 'R1' }],
      options({ includeUsage: true }),
    )
    expect(out).toEqual([
      { ...choice({ role: 'assistant', content: '' }, 'content_filter'), usage: null },
      { ...env, choices: [], usage: expect.objectContaining({ prompt_tokens: 4, completion_tokens: 0, total_tokens: 4 }) },
      '[DONE]',
    ])
  })

  it('a candidate stopped for safety mid-answer is content_filter', async () => {
    const out = await events([chunk([{ text: 'Sure, ' }]), chunk(undefined, { finishReason: 'SAFETY' })])
    expect(out.slice(-2)).toEqual([choice({}, 'content_filter'), '[DONE]'])
  })

  it('an upstream failure after the first byte: an OpenAI error event, no finish_reason, no [DONE]', async () => {
    const failure = new GatewayError(502, 'The Gemini stream broke after 1 chunk(s) (ECONNRESET); the answer is incomplete.')
    const out = await events([chunk([{ text: 'Hel' }])], options(), failure)
    expect(out).toEqual([
      choice({ role: 'assistant', content: 'Hel' }),
      { error: { message: failure.message, type: 'server_error', param: null, code: 'upstream_error' } },
    ])
  })

  it('a rate limit surfacing mid-stream keeps its type; a malformed event is an error too', async () => {
    const out = await events([chunk([{ text: 'a' }])], options(), new GatewayError(429, 'quota'))
    expect(out.at(-1)).toEqual({ error: { message: 'quota', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } })
    const broken = await events([chunk([{ text: 'a' }]), '{not json'])
    expect(broken.at(-1)).toMatchObject({ error: { type: 'server_error' } })
    expect(broken).not.toContain('[DONE]')
  })

  it('n > 1: each candidate is its own choice with its own finish', async () => {
    const two = (a: string, b: string, finish?: string) => ({
      candidates: [
        { content: { parts: [{ text: a }] }, index: 0, ...(finish ? { finishReason: finish } : {}) },
        { content: { parts: [{ text: b }] }, index: 1, ...(finish ? { finishReason: finish } : {}) },
      ],
      responseId: 'R1',
    })
    const out = await events([two('x', 'y'), two('z', 'w', 'STOP')], options({ n: 2 }))
    expect(out).toEqual([
      {
        ...env,
        choices: [
          { index: 0, delta: { role: 'assistant', content: 'x' }, logprobs: null, finish_reason: null },
          { index: 1, delta: { role: 'assistant', content: 'y' }, logprobs: null, finish_reason: null },
        ],
      },
      {
        ...env,
        choices: [
          { index: 0, delta: { content: 'z' }, logprobs: null, finish_reason: null },
          { index: 1, delta: { content: 'w' }, logprobs: null, finish_reason: null },
        ],
      },
      {
        ...env,
        choices: [
          { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
          { index: 1, delta: {}, logprobs: null, finish_reason: 'stop' },
        ],
      },
      '[DONE]',
    ])
  })

  it('a chunk without candidates (usage only) writes nothing and leaves the role to the first real delta', async () => {
    const out = await events([{ usageMetadata: { promptTokenCount: 1 }, responseId: 'R1' }, chunk([{ text: 'a' }], { finishReason: 'STOP' })])
    expect(out).toEqual([choice({ role: 'assistant', content: 'a' }), choice({}, 'stop'), '[DONE]'])
  })

  describe('keep-alives', () => {
    const KEEP_ALIVE = ': keep-alive\n\n'
    const answer = [chunk([{ text: 'Hel' }]), chunk([{ text: 'lo' }], { finishReason: 'STOP' })]
    const expected = [choice({ role: 'assistant', content: 'Hel' }), choice({ content: 'lo' }), choice({}, 'stop'), '[DONE]']

    it('are SSE comments at the start, in the middle and at the end, and change no event: the role waits for the first real delta', async () => {
      const text = await streamText([Payload.keepAlive, answer[0], Payload.keepAlive, Payload.keepAlive, answer[1], Payload.keepAlive])
      expect(text.startsWith(KEEP_ALIVE + 'data: {')).toBe(true)
      expect(text.split(KEEP_ALIVE).length - 1).toBe(4)
      // the last one comes after the upstream's last chunk (which closed the choice), before [DONE]
      expect(text.slice(text.lastIndexOf(KEEP_ALIVE))).toBe(KEEP_ALIVE + 'data: [DONE]\n\n')
      expect(parse(text.replaceAll(KEEP_ALIVE, ''))).toEqual(expected)
    })

    it('a stream of keep-alives only still closes with the role, a real finish_reason and usage', async () => {
      const text = await streamText([Payload.keepAlive, Payload.keepAlive], options({ includeUsage: true }))
      expect(text.startsWith(KEEP_ALIVE + KEEP_ALIVE + 'data: ')).toBe(true)
      expect(parse(text.replaceAll(KEEP_ALIVE, ''))).toEqual([
        { ...choice({ role: 'assistant', content: '' }, 'stop'), id: expect.stringMatching(/^chatcmpl-/), usage: null },
        { ...env, id: expect.stringMatching(/^chatcmpl-/), choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } },
        '[DONE]',
      ])
    })

    it('a keep-alive before a failure: the comment, then the error event, no [DONE]', async () => {
      const text = await streamText([answer[0], Payload.keepAlive], options(), new GatewayError(502, 'broken'))
      expect(text).toContain(KEEP_ALIVE + 'data: {"error":')
      expect(text).not.toContain('[DONE]')
    })
  })

  it('chunk ids are stable across the stream and usage is null on every chunk when include_usage is on', async () => {
    const out = (await events([chunk([{ text: 'a' }], { finishReason: 'STOP' })], options({ includeUsage: true }))) as any[]
    const ids = new Set(out.filter((e) => e !== '[DONE]').map((e) => e.id))
    expect(ids).toEqual(new Set(['chatcmpl-R1']))
    expect(out.slice(0, -2).every((e) => e.usage === null)).toBe(true)
  })
})
