import { describe, expect, it } from 'vitest'
import { anthropicErrorBody, anthropicErrorType } from '../../core/dialects/anthropic/errors.ts'
import { encodeAnswer } from '../../core/dialects/anthropic/response.ts'
import { parseToolUseId } from '../../core/dialects/anthropic/tool-ids.ts'
import { GatewayError } from '../../core/errors.ts'

const options = { model: 'gemini-2.5-flash', thinking: false }
const answer = (parts: unknown[] | undefined, finishReason = 'STOP', extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: parts ? { parts, role: 'model' } : { role: 'model' }, finishReason, index: 0 }],
  usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 5, totalTokenCount: 50, thoughtsTokenCount: 34 },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'xlWYafXAOKSf1e8PpcODiAg',
  ...extra,
})

const usage = {
  input_tokens: 11,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  output_tokens: 39,
  output_tokens_details: { thinking_tokens: 34 },
}

describe('gemini answer → anthropic message', () => {
  it('plain text', () => {
    expect(encodeAnswer(answer([{ text: 'Paris' }]), options)).toEqual({
      id: 'msg_xlWYafXAOKSf1e8PpcODiAg',
      type: 'message',
      role: 'assistant',
      model: 'gemini-2.5-flash',
      content: [{ type: 'text', text: 'Paris' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      stop_details: null,
      usage,
    })
  })

  const cases: { name: string; answer: Record<string, unknown>; thinking?: boolean; content: unknown[]; stop: string }[] = [
    {
      name: 'thought summary then text (consecutive parts merge)',
      answer: answer([{ text: '**Thinking**\n', thought: true }, { text: 'more', thought: true }, { text: 'Mountain ' }, { text: 'View' }]),
      content: [
        { type: 'thinking', thinking: '**Thinking**\nmore', signature: '' },
        { type: 'text', text: 'Mountain View' },
      ],
      stop: 'end_turn',
    },
    {
      name: 'thought with signature',
      answer: answer([{ text: 'hmm', thought: true, thoughtSignature: 'U0lH' }, { text: 'ok' }]),
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'U0lH' },
        { type: 'text', text: 'ok' },
      ],
      stop: 'end_turn',
    },
    {
      name: 'Gemini 3 text signature → signature-only thinking block after the text, when thinking was asked for',
      answer: answer([{ text: 'Hello!', thoughtSignature: 'dGV4dA==' }]),
      thinking: true,
      content: [
        { type: 'text', text: 'Hello!' },
        { type: 'thinking', thinking: '', signature: 'dGV4dA==' },
      ],
      stop: 'end_turn',
    },
    {
      name: 'text signature dropped when thinking was not asked for',
      answer: answer([{ text: 'Hello!', thoughtSignature: 'dGV4dA==' }]),
      content: [{ type: 'text', text: 'Hello!' }],
      stop: 'end_turn',
    },
    {
      name: 'MAX_TOKENS',
      answer: answer([{ text: 'The answer is' }], 'MAX_TOKENS'),
      content: [{ type: 'text', text: 'The answer is' }],
      stop: 'max_tokens',
    },
    {
      name: 'thinking ate the whole budget: no parts at all',
      answer: answer(undefined, 'MAX_TOKENS'),
      content: [],
      stop: 'max_tokens',
    },
    {
      name: 'SAFETY → refusal',
      answer: answer(undefined, 'SAFETY'),
      content: [],
      stop: 'refusal',
    },
    {
      name: 'code execution parts become fenced text',
      answer: answer([
        { executableCode: { language: 'PYTHON', code: 'print(1)' } },
        { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1\n' } },
        { text: 'Done.' },
      ]),
      content: [{ type: 'text', text: '\n\n```python\nprint(1)\n```\n\n\n```output\n1\n```\nDone.' }],
      stop: 'end_turn',
    },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const message = encodeAnswer(c.answer, { ...options, thinking: c.thinking ?? false })
      expect(message.content).toEqual(c.content)
      expect(message.stop_reason).toBe(c.stop)
    })
  }

  it('function calls → tool_use blocks with the call id and signature carried in the tool id; stop_reason tool_use', () => {
    const message = encodeAnswer(
      answer([
        { text: 'Let me check.' },
        { functionCall: { name: 'sum', args: { a: 2, b: 3 }, id: '3ae8iwca' }, thoughtSignature: 'EukBCuYBAb4+9vt/vxx=' },
        { functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } },
        { functionCall: { name: 'now' } },
      ]),
      options,
    )
    expect(message.stop_reason).toBe('tool_use')
    const [text, first, second, third] = message.content
    expect(text).toEqual({ type: 'text', text: 'Let me check.' })
    expect(first).toMatchObject({ type: 'tool_use', name: 'sum', input: { a: 2, b: 3 } })
    expect(parseToolUseId(first.id)).toEqual({ callId: '3ae8iwca', thoughtSignature: 'EukBCuYBAb4+9vt/vxx=' })
    expect(second).toEqual({ type: 'tool_use', id: 'toolu_gem-up3kf30e', name: 'sum', input: { a: 4, b: 5 } })
    expect(third).toMatchObject({ type: 'tool_use', name: 'now', input: {} })
    expect(third.id).toMatch(/^toolu_[A-Za-z0-9]{24}$/)
  })

  it('blocked prompt → refusal with the reason, empty content', () => {
    const message = encodeAnswer(
      { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 638, totalTokenCount: 638 } },
      options,
    )
    expect(message).toMatchObject({
      content: [],
      stop_reason: 'refusal',
      stop_details: { type: 'refusal', category: null, explanation: 'Gemini blocked the prompt (PROHIBITED_CONTENT).' },
      usage: { input_tokens: 638, output_tokens: 0 },
    })
    expect(message.id).toMatch(/^msg_/)
  })

  it('cached tokens are reported as cache reads, apart from input_tokens', () => {
    const message = encodeAnswer(
      answer([{ text: 'x' }], 'STOP', {
        usageMetadata: { promptTokenCount: 12013, cachedContentTokenCount: 11243, candidatesTokenCount: 15, thoughtsTokenCount: 73 },
      }),
      options,
    )
    expect(message.usage).toEqual({
      input_tokens: 770,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 11243,
      output_tokens: 88,
      output_tokens_details: { thinking_tokens: 73 },
    })
  })
})

describe('errors in anthropic shape', () => {
  const table: [number, string][] = [
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
    [418, 'invalid_request_error'],
  ]
  for (const [status, type] of table) it(`${status} → ${type}`, () => expect(anthropicErrorType(status)).toBe(type))

  it('keeps the message', () => {
    expect(anthropicErrorBody(new GatewayError(429, 'Resource exhausted.'))).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Resource exhausted.' },
    })
  })
})
