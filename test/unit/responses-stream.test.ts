import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ResponsesOptions } from '../../core/dialects/responses/decode.ts'
import { encodeStream } from '../../core/dialects/responses/stream.ts'
import { GatewayError } from '../../core/errors.ts'
import { Payload } from '../../core/payload.ts'

const OPTIONS: ResponsesOptions = { kind: 'response', model: 'gemini-2.5-flash', createdAt: 1767225600, echo: { tools: [] } }

function counterIds() {
  let n = 0
  return (prefix: string) => `${prefix}_${++n}`
}

type Event = Record<string, any>

/** Runs chunks (a thrown Error stands for the upstream breaking there) through the encoder; returns the parsed events. */
async function run(chunks: (Record<string, unknown> | Error | string | Payload)[]): Promise<{ events: Event[]; writes: number; text: string }> {
  async function* source(): AsyncGenerator<Payload> {
    for (const chunk of chunks) {
      if (chunk instanceof Error) throw chunk
      yield chunk instanceof Payload ? chunk : typeof chunk === 'string' ? Payload.fromText(chunk) : Payload.fromData(chunk)
    }
  }
  let text = ''
  let writes = 0
  for await (const piece of encodeStream(source(), OPTIONS, counterIds())) {
    text += piece
    writes++
  }
  const events = text
    .split('\n\n')
    .filter((frame) => frame !== '' && frame !== KEEP_ALIVE)
    .map((frame) => {
      const [eventLine, dataLine, ...rest] = frame.split('\n')
      expect(rest).toEqual([])
      const data = JSON.parse(dataLine!.slice('data: '.length))
      expect(eventLine).toBe(`event: ${data.type}`)
      return data
    })
  events.forEach((event, i) => expect(event.sequence_number).toBe(i))
  return { events, writes, text }
}

const KEEP_ALIVE = ': keep-alive'

const chunk = (parts: unknown[], finishReason?: string, usage: Record<string, number> = { promptTokenCount: 4, totalTokenCount: 4 }) => ({
  candidates: [{ content: { parts, role: 'model' }, ...(finishReason ? { finishReason } : {}), index: 0 }],
  usageMetadata: usage,
  modelVersion: 'gemini-2.5-flash',
  responseId: 'rid',
})

/** A compact line per event: its type and the fields that identify what it says. */
function outline(event: Event): string {
  const where = [event.output_index, event.content_index ?? event.summary_index].filter((v) => v !== undefined).join('/')
  const detail = event.delta ?? event.text ?? event.arguments ?? event.item?.type ?? event.part?.type ?? event.response?.status ?? event.message ?? ''
  return `${event.type}${where ? ` ${where}` : ''}${detail !== '' ? ` ${detail}` : ''}`
}

describe('Gemini stream → Responses events', () => {
  it('reasoning, then text; one write per upstream chunk and one to close', async () => {
    const { events, writes } = await run([
      chunk([{ text: '**Plan**\n\n', thought: true }]),
      chunk([{ text: 'more', thought: true }]),
      chunk([{ text: 'The ans' }]),
      chunk([{ text: 'wer.' }], 'STOP', { promptTokenCount: 4, candidatesTokenCount: 2, thoughtsTokenCount: 10, totalTokenCount: 16 }),
    ])
    expect(events.map(outline)).toEqual([
      'response.created in_progress',
      'response.in_progress in_progress',
      'response.output_item.added 0 reasoning',
      'response.reasoning_summary_part.added 0/0 summary_text',
      'response.reasoning_summary_text.delta 0/0 **Plan**\n\n',
      'response.reasoning_summary_text.delta 0/0 more',
      'response.reasoning_summary_text.done 0/0 **Plan**\n\nmore',
      'response.reasoning_summary_part.done 0/0 summary_text',
      'response.output_item.done 0 reasoning',
      'response.output_item.added 1 message',
      'response.content_part.added 1/0 output_text',
      'response.output_text.delta 1/0 The ans',
      'response.output_text.delta 1/0 wer.',
      'response.output_text.done 1/0 The answer.',
      'response.content_part.done 1/0 output_text',
      'response.output_item.done 1 message',
      'response.completed completed',
    ])
    expect(writes).toBe(5) // one per upstream chunk, then the closing events once the upstream ended
    expect(events[0]!.response).toMatchObject({ id: 'resp_rid', object: 'response', status: 'in_progress', model: 'gemini-2.5-flash', output: [], usage: null })
    const done = events.at(-1)!.response
    expect(done.output).toEqual([
      { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: '**Plan**\n\nmore' }] },
      {
        id: 'msg_2',
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'The answer.' }],
      },
    ])
    expect(done.usage).toEqual({
      input_tokens: 4,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 10 },
      total_tokens: 16,
    })
    expect(events[9]!.item).toEqual({ id: 'msg_2', type: 'message', status: 'in_progress', content: [], role: 'assistant' })
  })

  it('Gemini 3 function calls: signature on a reasoning item before the first call, one item per call', async () => {
    const { events } = await run([
      chunk([{ functionCall: { name: 'sum', args: { a: 2, b: 3 }, id: '3ae8iwca' }, thoughtSignature: 'SIG' }]),
      chunk([{ functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } }]),
      chunk([{ text: '' }], 'STOP'),
    ])
    expect(events.map(outline)).toEqual([
      'response.created in_progress',
      'response.in_progress in_progress',
      'response.output_item.added 0 reasoning',
      'response.output_item.done 0 reasoning',
      'response.output_item.added 1 function_call',
      'response.function_call_arguments.delta 1 {"a":2,"b":3}',
      'response.function_call_arguments.done 1 {"a":2,"b":3}',
      'response.output_item.done 1 function_call',
      'response.output_item.added 2 function_call',
      'response.function_call_arguments.delta 2 {"a":4,"b":5}',
      'response.function_call_arguments.done 2 {"a":4,"b":5}',
      'response.output_item.done 2 function_call',
      'response.completed completed',
    ])
    expect(events[2]!.item).toEqual({ id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'gemgate.sig.v1.next.SIG' })
    expect(events[4]!.item).toEqual({ id: 'fc_2', type: 'function_call', status: 'in_progress', arguments: '', call_id: '3ae8iwca', name: 'sum' })
    expect(events[6]).toMatchObject({ item_id: 'fc_2', name: 'sum' })
    expect(events[7]!.item).toEqual({ id: 'fc_2', type: 'function_call', status: 'completed', arguments: '{"a":2,"b":3}', call_id: '3ae8iwca', name: 'sum' })
  })

  it('Gemini 3 text: a signature on the closing empty part trails the message', async () => {
    const { events } = await run([chunk([{ text: 'Hi' }]), chunk([{ text: '', thoughtSignature: 'TS' }], 'STOP')])
    expect(events.map(outline).slice(2)).toEqual([
      'response.output_item.added 0 message',
      'response.content_part.added 0/0 output_text',
      'response.output_text.delta 0/0 Hi',
      'response.output_text.done 0/0 Hi',
      'response.content_part.done 0/0 output_text',
      'response.output_item.done 0 message',
      'response.output_item.added 1 reasoning',
      'response.output_item.done 1 reasoning',
      'response.completed completed',
    ])
    expect(events.at(-2)!.item.encrypted_content).toBe('gemgate.sig.v1.prev.TS')
  })

  it('MAX_TOKENS → the message is incomplete and the stream ends with response.incomplete', async () => {
    const { events } = await run([chunk([{ text: 'Once' }]), chunk([{ text: ' upon' }], 'MAX_TOKENS')])
    expect(events.map(outline).slice(-3)).toEqual([
      'response.content_part.done 0/0 output_text',
      'response.output_item.done 0 message',
      'response.incomplete incomplete',
    ])
    expect(events.at(-2)!.item.status).toBe('incomplete')
    expect(events.at(-1)!.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } })
  })

  it('a failure after the first byte → response.failed and an error event, never response.completed', async () => {
    const broken = new GatewayError(502, 'The Gemini stream broke after 1 chunk(s) (ECONNRESET); the answer is incomplete.')
    const { events } = await run([chunk([{ text: 'Hal' }]), broken])
    expect(events.map(outline)).toEqual([
      'response.created in_progress',
      'response.in_progress in_progress',
      'response.output_item.added 0 message',
      'response.content_part.added 0/0 output_text',
      'response.output_text.delta 0/0 Hal',
      'response.failed failed',
      `error ${broken.message}`,
    ])
    expect(events.at(-2)!.response).toMatchObject({
      status: 'failed',
      error: { code: 'server_error', message: broken.message },
      output: [{ type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: 'Hal' }] }],
    })
    expect(events.at(-1)).toMatchObject({
      type: 'error',
      code: 'upstream_error',
      param: null,
      error: { type: 'server_error', code: 'upstream_error', message: broken.message },
    })
  })

  it('a Gemini failure reason (MALFORMED_FUNCTION_CALL) also ends in response.failed + error', async () => {
    const { events } = await run([chunk([], 'MALFORMED_FUNCTION_CALL')])
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.failed', 'error'])
    expect(events[2]!.response.error.message).toMatch(/MALFORMED_FUNCTION_CALL/)
  })

  it('a stream event that is not JSON fails the response', async () => {
    const { events } = await run([chunk([{ text: 'a' }]), '{not json'])
    expect(events.at(-2)!.type).toBe('response.failed')
    expect(events.at(-1)!.message).toMatch(/not JSON/)
  })

  describe('keep-alives', () => {
    const K = Payload.keepAlive
    const answer = [chunk([{ text: 'Hel' }]), chunk([{ text: 'lo' }], 'STOP')]
    afterEach(() => vi.useRealTimers())

    it('are SSE comments at the start (before response.created), in the middle and at the end; no event or number changes', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 0, 1) })
      const { events, text } = await run([K, answer[0], K, K, answer[1], K])
      expect(text.startsWith(': keep-alive\n\nevent: response.created\n')).toBe(true)
      expect(text.split(': keep-alive\n\n').length - 1).toBe(4)
      // after the upstream's last chunk, before the closing events
      expect(text.slice(text.lastIndexOf(': keep-alive\n\n'))).toMatch(/^: keep-alive\n\nevent: response.output_text.done\n/)
      // the same events, ids and sequence numbers (run() checks they count up from 0) as without keep-alives
      expect(events).toEqual((await run(answer)).events)
      expect(events[0]!.response.id).toBe('resp_rid')
    })

    it('a stream of keep-alives only still ends with a terminal event', async () => {
      const { events, text } = await run([K, K])
      expect(text.startsWith(': keep-alive\n\n: keep-alive\n\nevent: response.created\n')).toBe(true)
      expect(events.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.completed'])
    })

    it('a keep-alive before a failure: the comment, then response.failed and error', async () => {
      const { events, text } = await run([answer[0], K, new GatewayError(502, 'broken')])
      expect(text).toContain(': keep-alive\n\nevent: response.failed\n')
      expect(events.map((e) => e.type).slice(-2)).toEqual(['response.failed', 'error'])
    })
  })

  it('a blocked prompt → response.incomplete with content_filter', async () => {
    const { events } = await run([{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 } }])
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.incomplete'])
    expect(events[2]!.response.incomplete_details).toEqual({ reason: 'content_filter' })
  })
})
