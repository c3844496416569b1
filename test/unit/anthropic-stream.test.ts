import { describe, expect, it } from 'vitest'
import { encodeStream } from '../../core/dialects/anthropic/stream.ts'
import { parseToolUseId } from '../../core/dialects/anthropic/tool-ids.ts'
import { GatewayError } from '../../core/errors.ts'
import { Payload } from '../../core/payload.ts'

const options = { model: 'claude-ish', thinking: true }

function chunk(parts: unknown[] | undefined, extra: { finishReason?: string; usage?: Record<string, number> } = {}) {
  const candidate: Record<string, unknown> = {}
  if (parts) candidate.content = { parts, role: 'model' }
  if (extra.finishReason) candidate.finishReason = extra.finishReason
  candidate.index = 0
  return {
    candidates: [candidate],
    usageMetadata: extra.usage ?? { promptTokenCount: 10, totalTokenCount: 10 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp1',
  }
}

async function* source(items: unknown[], failure?: Error): AsyncGenerator<Payload> {
  for (const item of items) yield item instanceof Payload ? item : Payload.fromText(JSON.stringify(item))
  if (failure) throw failure
}

interface Event {
  event: string
  data: any
}

async function run(items: unknown[], failure?: Error, opts = options): Promise<{ events: Event[]; writes: number; text: string }> {
  let text = ''
  let writes = 0
  for await (const piece of encodeStream(source(items, failure), opts)) {
    text += piece
    writes++
  }
  const events = text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const [eventLine, dataLine, ...rest] = block.split('\n')
      expect(rest).toEqual([])
      expect(eventLine).toMatch(/^event: /)
      expect(dataLine).toMatch(/^data: /)
      const event = eventLine!.slice('event: '.length)
      const data = JSON.parse(dataLine!.slice('data: '.length))
      if (event !== 'error') expect(data.type).toBe(event)
      return { event, data }
    })
  return { events, writes, text }
}

const start = (index: number, content_block: unknown) => ({ type: 'content_block_start', index, content_block })
const delta = (index: number, d: unknown) => ({ type: 'content_block_delta', index, delta: d })
const stop = (index: number) => ({ type: 'content_block_stop', index })

describe('gemini stream → anthropic SSE', () => {
  it('thinking, then text, then a tool use, with indexes, usage and the tool_use stop reason', async () => {
    const { events, writes } = await run([
      chunk([{ text: 'Plan: ', thought: true }], { usage: { promptTokenCount: 10, thoughtsTokenCount: 5 } }),
      chunk([{ text: 'call the tool.', thought: true }], { usage: { promptTokenCount: 10, thoughtsTokenCount: 9 } }),
      chunk([{ text: 'Checking ' }], { usage: { promptTokenCount: 10, candidatesTokenCount: 1, thoughtsTokenCount: 9 } }),
      chunk([{ text: 'now.' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'abcd1234' }, thoughtSignature: 'U0lHTkFUVVJF' }], {
        finishReason: 'STOP',
        usage: { promptTokenCount: 10, candidatesTokenCount: 12, thoughtsTokenCount: 9 },
      }),
    ])
    expect(writes).toBe(5) // one write per Gemini chunk, plus the closing one
    const toolId = events.find((e) => e.data.content_block?.type === 'tool_use')!.data.content_block.id
    expect(parseToolUseId(toolId)).toEqual({ callId: 'abcd1234', thoughtSignature: 'U0lHTkFUVVJF' })
    expect(events.map((e) => e.data)).toEqual([
      {
        type: 'message_start',
        message: {
          id: 'msg_resp1',
          type: 'message',
          role: 'assistant',
          model: 'claude-ish',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          stop_details: null,
          usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
        },
      },
      start(0, { type: 'thinking', thinking: '', signature: '' }),
      delta(0, { type: 'thinking_delta', thinking: 'Plan: ' }),
      delta(0, { type: 'thinking_delta', thinking: 'call the tool.' }),
      stop(0),
      start(1, { type: 'text', text: '' }),
      delta(1, { type: 'text_delta', text: 'Checking ' }),
      delta(1, { type: 'text_delta', text: 'now.' }),
      stop(1),
      start(2, { type: 'tool_use', id: toolId, name: 'get_weather', input: {} }),
      delta(2, { type: 'input_json_delta', partial_json: '{"city":"Paris"}' }),
      stop(2),
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null, stop_details: null },
        usage: {
          input_tokens: 10,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: 21,
          output_tokens_details: { thinking_tokens: 9 },
        },
      },
      { type: 'message_stop' },
    ])
  })

  it('parallel tool uses (Gemini 3: one call per chunk, signature on the first, empty final text part)', async () => {
    const { events } = await run([
      chunk([{ functionCall: { name: 'sum', args: { b: 3, a: 2 }, id: '3ae8iwca' }, thoughtSignature: 'RXVrQkN1WUI=' }]),
      chunk([{ functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } }]),
      chunk([{ functionCall: { name: 'sum', args: { b: 7, a: 6 }, id: 'ycroch25' } }]),
      chunk([{ text: '' }], { finishReason: 'STOP' }),
    ])
    const types = events.map((e) => (e.event.startsWith('content_block') ? `${e.event}:${e.data.index}` : e.event))
    expect(types).toEqual([
      'message_start',
      'content_block_start:0',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1',
      'content_block_stop:1',
      'content_block_start:2',
      'content_block_delta:2',
      'content_block_stop:2',
      'message_delta',
      'message_stop',
    ])
    const ids = events.filter((e) => e.event === 'content_block_start').map((e) => e.data.content_block.id)
    expect(ids.map(parseToolUseId)).toEqual([{ callId: '3ae8iwca', thoughtSignature: 'RXVrQkN1WUI=' }, { callId: 'up3kf30e' }, { callId: 'ycroch25' }])
    expect(events.filter((e) => e.data.delta?.type === 'input_json_delta').map((e) => JSON.parse(e.data.delta.partial_json))).toEqual([
      { b: 3, a: 2 },
      { a: 4, b: 5 },
      { b: 7, a: 6 },
    ])
    expect(events.at(-2)!.data.delta.stop_reason).toBe('tool_use')
  })

  it('Gemini 3 text signature in the last empty part → a signature-only thinking block after the text', async () => {
    const { events } = await run([
      chunk([{ text: 'Hel' }]),
      chunk([{ text: 'lo' }]),
      chunk([{ text: '', thoughtSignature: 'RXNJQ0Ny' }], { finishReason: 'STOP' }),
    ])
    expect(events.slice(1, -2).map((e) => e.data)).toEqual([
      start(0, { type: 'text', text: '' }),
      delta(0, { type: 'text_delta', text: 'Hel' }),
      delta(0, { type: 'text_delta', text: 'lo' }),
      stop(0),
      start(1, { type: 'thinking', thinking: '', signature: '' }),
      delta(1, { type: 'signature_delta', signature: 'RXNJQ0Ny' }),
      stop(1),
    ])
    const plain = await run([chunk([{ text: 'Hello' }]), chunk([{ text: '', thoughtSignature: 'RXNJQ0Ny' }], { finishReason: 'STOP' })], undefined, {
      ...options,
      thinking: false,
    })
    expect(plain.events.filter((e) => e.event === 'content_block_start')).toHaveLength(1)
  })

  it('MAX_TOKENS', async () => {
    const { events } = await run([
      chunk([{ text: 'The answer' }]),
      chunk([{ text: ' is' }], { finishReason: 'MAX_TOKENS', usage: { promptTokenCount: 10, candidatesTokenCount: 3 } }),
    ])
    expect(events.at(-2)!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null, stop_details: null },
      usage: { input_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 3, output_tokens_details: { thinking_tokens: 0 } },
    })
    expect(events.at(-1)!.event).toBe('message_stop')
  })

  it('a blocked prompt is a refusal with no content', async () => {
    const { events } = await run([{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 } }])
    expect(events.map((e) => e.event)).toEqual(['message_start', 'message_delta', 'message_stop'])
    expect(events[1]!.data.delta).toMatchObject({ stop_reason: 'refusal', stop_details: { type: 'refusal' } })
  })

  it('a failure mid-stream ends with an error event and no message_stop', async () => {
    const { events, text } = await run(
      [chunk([{ text: 'partial' }])],
      new GatewayError(502, 'The Gemini stream broke after 1 chunk(s) (ECONNRESET); the answer is incomplete.'),
    )
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error'])
    expect(events.at(-1)!.data).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'The Gemini stream broke after 1 chunk(s) (ECONNRESET); the answer is incomplete.' },
    })
    expect(text).not.toContain('message_stop')
  })

  describe('keep-alives', () => {
    const K = Payload.keepAlive
    const answer = [chunk([{ text: 'Hel' }]), chunk([{ text: 'lo' }], { finishReason: 'STOP' })]

    it("are Anthropic's ping event at the start (before message_start), in the middle and at the end; nothing else changes", async () => {
      const { events, text } = await run([K, answer[0], K, K, answer[1], K])
      expect(text.startsWith('event: ping\ndata: {"type":"ping"}\n\nevent: message_start\n')).toBe(true)
      expect(events.map((e) => e.event)).toEqual([
        'ping',
        'message_start',
        'content_block_start',
        'content_block_delta',
        'ping',
        'ping',
        'content_block_delta',
        'ping',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ])
      expect(events.filter((e) => e.event === 'ping').map((e) => e.data)).toEqual(Array.from({ length: 4 }, () => ({ type: 'ping' })))
      // message_start still carries the first real chunk's id and usage: a ping started nothing
      const plain = await run(answer)
      expect(events.filter((e) => e.event !== 'ping')).toEqual(plain.events)
    })

    it('a stream of keep-alives only: pings, then one complete empty message', async () => {
      const { events } = await run([K, K])
      expect(events.map((e) => e.event)).toEqual(['ping', 'ping', 'message_start', 'message_delta', 'message_stop'])
    })

    it('a keep-alive before a failure: the ping, then the error event, no message_stop', async () => {
      const { events } = await run([answer[0], K], new GatewayError(502, 'broken'))
      expect(events.map((e) => e.event).slice(-2)).toEqual(['ping', 'error'])
      expect(events.map((e) => e.event)).not.toContain('message_stop')
    })
  })

  it('an overloaded failure mid-stream is an overloaded_error; a bug is an opaque api_error', async () => {
    const overloaded = await run([chunk([{ text: 'x' }])], new GatewayError(503, 'The model is overloaded.'))
    expect(overloaded.events.at(-1)!.data.error.type).toBe('overloaded_error')
    const bug = await run([chunk([{ text: 'x' }])], new TypeError('oops'))
    expect(bug.events.at(-1)!.data.error).toEqual({ type: 'api_error', message: 'Internal gateway error' })
  })
})
