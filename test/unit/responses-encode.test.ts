import { describe, expect, it } from 'vitest'
import { openaiErrorObject } from '../../core/dialects/openai/errors.ts'
import type { ResponsesOptions } from '../../core/dialects/responses/decode.ts'
import { encodeAnswer } from '../../core/dialects/responses/response.ts'
import { GatewayError } from '../../core/errors.ts'

const OPTIONS: ResponsesOptions = {
  kind: 'response',
  model: 'gemini-2.5-flash',
  createdAt: 1767225600,
  echo: { instructions: null, tools: [], tool_choice: 'auto' },
}

/** Ids in creation order: rs_1, msg_2, fc_3, call_4 ... */
function counterIds() {
  let n = 0
  return (prefix: string) => `${prefix}_${++n}`
}

const answer = (
  parts: unknown[] | undefined,
  finishReason = 'STOP',
  usage: Record<string, number> = { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
) => ({
  candidates: [{ content: { ...(parts ? { parts } : {}), role: 'model' }, finishReason, index: 0 }],
  usageMetadata: usage,
  modelVersion: 'gemini-2.5-flash',
  responseId: 'abcDEF123',
})

const message = (id: string, text: string, status = 'completed') => ({
  id,
  type: 'message',
  status,
  content: [{ type: 'output_text', annotations: [], logprobs: [], text }],
  role: 'assistant',
})

describe('Gemini answer → Response object', () => {
  it('plain text, with usage and the request settings repeated', () => {
    const { response, finish } = encodeAnswer(answer([{ text: 'Paris' }]), OPTIONS, counterIds())
    expect(finish.status).toBe('completed')
    expect(response).toMatchObject({
      id: 'resp_abcDEF123',
      object: 'response',
      created_at: 1767225600,
      status: 'completed',
      error: null,
      incomplete_details: null,
      instructions: null,
      model: 'gemini-2.5-flash',
      output: [message('msg_1', 'Paris')],
      store: false,
      tool_choice: 'auto',
      tools: [],
      usage: { input_tokens: 5, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 8 },
    })
    expect(typeof response.completed_at).toBe('number')
  })

  const cases: [string, unknown[] | undefined, string, unknown[], Record<string, unknown>?][] = [
    [
      'thought summary then text; thinking tokens count as reasoning output',
      [{ text: '**Thinking**\n\nabout it', thought: true }, { text: 'Mountain View' }],
      'STOP',
      [{ id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: '**Thinking**\n\nabout it' }] }, message('msg_2', 'Mountain View')],
    ],
    [
      'thought, then a signed function call (2.5): the signature rides on the reasoning item before the call',
      [
        { text: 'plan', thought: true },
        { functionCall: { name: 'now', args: {} }, thoughtSignature: 'SIG1' },
      ],
      'STOP',
      [
        { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'plan' }], encrypted_content: 'gemgate.sig.v1.next.SIG1' },
        { id: 'fc_2', type: 'function_call', status: 'completed', arguments: '{}', call_id: 'call_3', name: 'now' },
      ],
    ],
    [
      'Gemini 3 parallel calls: ids become call_ids, only the first is signed',
      [
        { functionCall: { name: 'sum', args: { a: 2, b: 3 }, id: '3ae8iwca' }, thoughtSignature: 'SIG' },
        { functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } },
      ],
      'STOP',
      [
        { id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'gemgate.sig.v1.next.SIG' },
        { id: 'fc_2', type: 'function_call', status: 'completed', arguments: '{"a":2,"b":3}', call_id: '3ae8iwca', name: 'sum' },
        { id: 'fc_3', type: 'function_call', status: 'completed', arguments: '{"a":4,"b":5}', call_id: 'up3kf30e', name: 'sum' },
      ],
    ],
    [
      'text then a call: the message closes before the call',
      [{ text: 'Let me check.' }, { functionCall: { name: 'f', args: { x: 1 } } }],
      'STOP',
      [message('msg_1', 'Let me check.'), { id: 'fc_2', type: 'function_call', status: 'completed', arguments: '{"x":1}', call_id: 'call_3', name: 'f' }],
    ],
    [
      'Gemini 3 text signed on the text part itself',
      [{ text: 'Hello', thoughtSignature: 'TS' }],
      'STOP',
      [{ id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'gemgate.sig.v1.next.TS' }, message('msg_2', 'Hello')],
    ],
    [
      'a signature on a later text part of the same message trails it (prev)',
      [{ text: 'Hel' }, { text: 'lo' }, { text: '', thoughtSignature: 'TS' }],
      'STOP',
      [message('msg_1', 'Hello'), { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'gemgate.sig.v1.prev.TS' }],
    ],
    [
      'MAX_TOKENS → incomplete, open message marked incomplete',
      [{ text: 'Once upon' }],
      'MAX_TOKENS',
      [message('msg_1', 'Once upon', 'incomplete')],
      { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    ],
    [
      'MAX_TOKENS spent on thinking: no parts at all',
      undefined,
      'MAX_TOKENS',
      [],
      { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    ],
    [
      'SAFETY → incomplete content_filter',
      [{ text: 'partial' }],
      'SAFETY',
      [message('msg_1', 'partial', 'incomplete')],
      { status: 'incomplete', incomplete_details: { reason: 'content_filter' } },
    ],
    [
      'MALFORMED_FUNCTION_CALL → failed',
      undefined,
      'MALFORMED_FUNCTION_CALL',
      [],
      { status: 'failed', error: { code: 'server_error', message: 'Gemini ended the answer with finishReason MALFORMED_FUNCTION_CALL.' } },
    ],
    [
      'images and code execution become text',
      [
        { executableCode: { language: 'PYTHON', code: 'print(1)' } },
        { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1\n' } },
        { inlineData: { mimeType: 'image/png', data: 'AAA' } },
      ],
      'STOP',
      [message('msg_1', '\n\n```python\nprint(1)\n```\n\n\n```output\n1\n```\n\n\n![image](data:image/png;base64,AAA)\n\n')],
    ],
  ]

  it.each(cases)('%s', (_name, parts, finishReason, output, extra = {}) => {
    const { response } = encodeAnswer(answer(parts, finishReason), OPTIONS, counterIds())
    expect(response.output).toEqual(output)
    expect(response).toMatchObject(extra)
  })

  it('usage: cached and thinking tokens', () => {
    const usage = { promptTokenCount: 12013, candidatesTokenCount: 15, totalTokenCount: 12101, cachedContentTokenCount: 11243, thoughtsTokenCount: 73 }
    const { response } = encodeAnswer(answer([{ text: 'x' }], 'STOP', usage), OPTIONS, counterIds())
    expect(response.usage).toEqual({
      input_tokens: 12013,
      input_tokens_details: { cached_tokens: 11243 },
      output_tokens: 88,
      output_tokens_details: { reasoning_tokens: 73 },
      total_tokens: 12101,
    })
  })

  it('a blocked prompt is an incomplete answer with content_filter', () => {
    const { response } = encodeAnswer(
      { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 } },
      OPTIONS,
      counterIds(),
    )
    expect(response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'content_filter' },
      output: [],
      usage: { input_tokens: 7, output_tokens: 0, total_tokens: 7 },
    })
  })
})

describe('errors in OpenAI shape', () => {
  const cases: [string, GatewayError, Record<string, unknown>][] = [
    [
      'a refused field',
      new GatewayError(400, 'bad', { param: 'store' }),
      { type: 'invalid_request_error', code: 'invalid_value', param: 'store', message: 'bad' },
    ],
    [
      'a Gemini 400',
      new GatewayError(400, 'User location is not supported for the API use.', {
        upstreamBody: '{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}',
      }),
      { code: 'failed_precondition', param: null },
    ],
    ['a bad token', new GatewayError(401, 'no'), { type: 'invalid_request_error', code: 'invalid_api_key', param: null }],
    ['rate limited', new GatewayError(429, 'slow down', { headers: { 'retry-after': '7' } }), { type: 'rate_limit_error', code: 'rate_limit_exceeded' }],
    ['unknown model upstream', new GatewayError(404, 'models/x is not found for API version v1beta', { upstreamBody: '{}' }), { code: 'model_not_found' }],
    [
      'context overflow upstream',
      new GatewayError(400, 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', { upstreamBody: '{}' }),
      { code: 'context_length_exceeded' },
    ],
    ['overloaded', new GatewayError(503, 'The model is overloaded.'), { type: 'server_error', code: 'service_unavailable' }],
    ['timeout', new GatewayError(504, 'late'), { type: 'server_error', code: 'timeout' }],
  ]
  it.each(cases)('%s', (_name, error, expected) => {
    expect(openaiErrorObject(error).error).toMatchObject(expected)
  })
})
