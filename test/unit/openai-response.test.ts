import { describe, expect, it } from 'vitest'
import { encodeAnswer, finishReason } from '../../core/dialects/openai/response.ts'
import type { ChatOptions } from '../../core/dialects/openai/request.ts'
import { openaiErrorObject } from '../../core/dialects/openai/errors.ts'
import { float32Base64, toEmbeddingsResponse } from '../../core/dialects/openai/embeddings.ts'
import { toModelList } from '../../core/dialects/openai/models.ts'
import { GatewayError } from '../../core/errors.ts'

const options: ChatOptions = { kind: 'chat', model: 'my-model', n: 1, includeUsage: false }
const candidate = (parts: unknown[], finishReason = 'STOP', extra: Record<string, unknown> = {}) => ({
  content: { role: 'model', parts },
  finishReason,
  index: 0,
  ...extra,
})
const answer = (candidates: unknown[], extra: Record<string, unknown> = {}) => ({
  candidates,
  modelVersion: 'gemini-2.5-flash',
  responseId: 'resp123',
  ...extra,
})

/** Gemini answer in → the parts of the OpenAI answer that matter out. */
const cases: { name: string; in: Record<string, unknown>; choices: unknown[]; usage?: unknown }[] = [
  {
    name: 'plain text, usage with thoughts counted as completion (reasoning) tokens',
    in: answer([candidate([{ text: 'Paris' }])], {
      usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 1, totalTokenCount: 46, thoughtsTokenCount: 34 },
    }),
    choices: [{ index: 0, message: { role: 'assistant', content: 'Paris', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: 11,
      completion_tokens: 35,
      total_tokens: 46,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 34 },
    },
  },
  {
    name: 'thought parts go to reasoning_content, text parts are joined',
    in: answer([candidate([{ text: '**Thinking**\n', thought: true }, { text: 'Mountain ' }, { text: 'View' }])]),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Mountain View', refusal: null, reasoning_content: '**Thinking**\n' },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
  },
  {
    name: 'function calls: tool_calls with the Gemini id and the signature in id and extra_content; finish tool_calls',
    in: answer([
      candidate([
        { text: 'hmm', thought: true },
        { functionCall: { name: 'sum', args: { b: 3, a: 2 }, id: '3ae8iwca' }, thoughtSignature: 'SIG' },
        { functionCall: { name: 'sum', args: { a: 4, b: 5 }, id: 'up3kf30e' } },
      ]),
    ]),
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          refusal: null,
          reasoning_content: 'hmm',
          tool_calls: [
            {
              id: '3ae8iwca__thought__SIG',
              type: 'function',
              function: { name: 'sum', arguments: '{"b":3,"a":2}' },
              extra_content: { google: { thought_signature: 'SIG' } },
            },
            { id: 'up3kf30e', type: 'function', function: { name: 'sum', arguments: '{"a":4,"b":5}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
  },
  {
    name: 'Gemini 3 text signature is handed out as extra_content',
    in: answer([candidate([{ text: 'Hi', thoughtSignature: 'TSIG' }])]),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hi', refusal: null, extra_content: { google: { thought_signature: 'TSIG' } } },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
  },
  {
    name: 'MAX_TOKENS with no parts at all (thinking ate the budget)',
    in: answer([{ content: { role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 }]),
    choices: [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'length' }],
  },
  ...['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'].map((reason) => ({
    name: `${reason} is content_filter`,
    in: answer([{ finishReason: reason, index: 0 }]),
    choices: [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'content_filter' }],
  })),
  {
    name: 'a blocked prompt: every requested choice filtered, empty content',
    in: { promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } },
    choices: [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'content_filter' }],
    usage: {
      prompt_tokens: 5,
      completion_tokens: 0,
      total_tokens: 5,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  },
  {
    name: 'several candidates become several choices',
    in: answer([candidate(['a'].map((text) => ({ text }))), { ...candidate([{ text: 'b' }], 'MAX_TOKENS'), index: 1 }]),
    choices: [
      { index: 0, message: { role: 'assistant', content: 'a', refusal: null }, logprobs: null, finish_reason: 'stop' },
      { index: 1, message: { role: 'assistant', content: 'b', refusal: null }, logprobs: null, finish_reason: 'length' },
    ],
  },
  {
    name: 'code execution and images render as markdown',
    in: answer([
      candidate([
        { executableCode: { language: 'PYTHON', code: 'print(1)' } },
        { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1\n' } },
        { inlineData: { mimeType: 'image/png', data: 'iVBO' } },
      ]),
    ]),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: '\n\n```python\nprint(1)\n```\n\n\n```output\n1\n```\n\n![image](data:image/png;base64,iVBO)\n', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
  },
  {
    name: 'logprobs',
    in: answer([
      candidate([{ text: 'Hi' }], 'STOP', {
        logprobsResult: {
          topCandidates: [
            {
              candidates: [
                { token: 'Hi', logProbability: -0.1 },
                { token: 'Yo', logProbability: -2 },
              ],
            },
          ],
          chosenCandidates: [{ token: 'Hi', logProbability: -0.1 }],
        },
      }),
    ]),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hi', refusal: null },
        logprobs: {
          content: [
            {
              token: 'Hi',
              logprob: -0.1,
              bytes: [72, 105],
              top_logprobs: [
                { token: 'Hi', logprob: -0.1, bytes: [72, 105] },
                { token: 'Yo', logprob: -2, bytes: [89, 111] },
              ],
            },
          ],
          refusal: null,
        },
        finish_reason: 'stop',
      },
    ],
  },
]

describe('Gemini answer → chat.completion', () => {
  for (const c of cases) {
    it(c.name, () => {
      const completion = encodeAnswer(c.in, options)
      expect(completion.choices).toEqual(c.choices)
      if (c.usage) expect(completion.usage).toEqual(c.usage)
    })
  }

  it('the envelope: chatcmpl id from the responseId, created, the model the client asked for', () => {
    const completion = encodeAnswer(answer([candidate([{ text: 'x' }])]), options)
    expect(completion).toMatchObject({ id: 'chatcmpl-resp123', object: 'chat.completion', model: 'my-model' })
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(5)
    expect(completion.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 })
  })

  it('cached and tool-use prompt tokens', () => {
    const completion = encodeAnswer(
      answer([candidate([{ text: 'x' }])], {
        usageMetadata: { promptTokenCount: 100, cachedContentTokenCount: 80, toolUsePromptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 115 },
      }),
      options,
    )
    expect(completion.usage).toEqual({
      prompt_tokens: 110,
      completion_tokens: 5,
      total_tokens: 115,
      prompt_tokens_details: { cached_tokens: 80 },
      completion_tokens_details: { reasoning_tokens: 0 },
    })
  })

  it('tool calls without a Gemini id get a fresh call_ id', () => {
    const completion = encodeAnswer(answer([candidate([{ functionCall: { name: 'f', args: {} } }])]), options)
    expect(completion.choices[0].message.tool_calls[0].id).toMatch(/^call_[0-9a-f]{24}$/)
  })

  it('finish reasons of MAX_TOKENS beat tool calls; unknown reasons are stop', () => {
    expect(finishReason('MAX_TOKENS', true)).toBe('length')
    expect(finishReason('MALFORMED_FUNCTION_CALL', false)).toBe('stop')
    expect(finishReason(undefined, true)).toBe('tool_calls')
  })
})

describe('OpenAI errors, embeddings and models', () => {
  it('error objects by status', () => {
    expect(openaiErrorObject(new GatewayError(400, "Invalid value for 'temperature': no", { param: 'temperature' }))).toEqual({
      error: { message: "Invalid value for 'temperature': no", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' },
    })
    expect(openaiErrorObject(new GatewayError(401, 'bad token')).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', param: null })
    expect(openaiErrorObject(new GatewayError(404, 'models/x is not found')).error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' })
    expect(openaiErrorObject(new GatewayError(429, 'slow down')).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' })
    expect(openaiErrorObject(new GatewayError(503, 'overloaded')).error).toMatchObject({ type: 'server_error', code: 'service_unavailable' })
  })

  it('embeddings as floats and as little-endian float32 base64, with estimated usage', () => {
    expect(float32Base64([1, -2])).toBe(Buffer.from(new Float32Array([1, -2]).buffer).toString('base64'))
    const out = toEmbeddingsResponse([[0.5, 0.25]], ['hello world!'], { kind: 'embeddings', model: 'e', encoding: 'base64' })
    expect(out).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: float32Base64([0.5, 0.25]) }],
      model: 'e',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    })
  })

  it('model list: filtered out, plugin models in, each id once', () => {
    const listed = (id: string) => id !== 'old' && id !== 'b-search'
    const list = toModelList({ models: [{ name: 'models/a' }, { name: 'models/b' }, { name: 'models/old' }] }, listed, (up) =>
      up.map((m) => ({ ...m, name: `${m.name}-search` })),
    )
    expect(list.object).toBe('list')
    expect(list.data.map((m) => m.id)).toEqual(['a', 'b', 'a-search'])
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'google' })
  })
})
