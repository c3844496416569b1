import { describe, expect, it } from 'vitest'
import { decodeCountTokensRequest, decodeMessagesRequest } from '../../core/dialects/anthropic/request.ts'
import { parseToolUseId, toolUseId } from '../../core/dialects/anthropic/tool-ids.ts'
import { GatewayError } from '../../core/errors.ts'

const user = (content: unknown) => ({ role: 'user', content })
const base = (extra: Record<string, unknown> = {}) => ({ model: 'gemini-2.5-flash', max_tokens: 100, messages: [user('hi')], ...extra })

describe('anthropic request → gemini body', () => {
  const cases: { name: string; request: Record<string, unknown>; body: Record<string, unknown> }[] = [
    {
      name: 'plain text, max_tokens, no defaults injected',
      request: { model: 'gemini-2.5-flash', max_tokens: 1024, messages: [user('Hello')], metadata: { user_id: 'u1' }, service_tier: 'auto' },
      body: { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }], generationConfig: { maxOutputTokens: 1024 } },
    },
    {
      name: 'system string, sampling, stop sequences',
      request: base({ system: 'Be brief.', temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ['END', '###'] }),
      body: {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        generationConfig: { maxOutputTokens: 100, temperature: 0.2, topP: 0.9, topK: 40, stopSequences: ['END', '###'] },
      },
    },
    {
      name: 'system text blocks (cache_control dropped) and role:system messages',
      request: base({
        system: [
          { type: 'text', text: 'One.', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Two.' },
        ],
        messages: [{ role: 'system', content: 'Three.' }, user('hi')],
      }),
      body: {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        systemInstruction: { parts: [{ text: 'One.' }, { text: 'Two.' }, { text: 'Three.' }] },
        generationConfig: { maxOutputTokens: 100 },
      },
    },
    {
      name: 'images (base64, data url) and a PDF document',
      request: base({
        messages: [
          user([
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'data:image/jpeg;base64,/9j/4A' } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain doc' } },
            { type: 'text', text: 'What is this?' },
          ]),
        ],
      }),
      body: {
        contents: [
          {
            role: 'user',
            parts: [
              { inlineData: { mimeType: 'image/png', data: 'iVBOR' } },
              { inlineData: { mimeType: 'image/jpeg', data: '/9j/4A' } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBER' } },
              { text: 'plain doc' },
              { text: 'What is this?' },
            ],
          },
        ],
        generationConfig: { maxOutputTokens: 100 },
      },
    },
    {
      name: 'tools, tool_choice tool, thinking enabled',
      request: base({
        tools: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
          { name: 'now', input_schema: { type: 'object', properties: {} } },
        ],
        tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
        thinking: { type: 'enabled', budget_tokens: 2048 },
      }),
      body: {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Weather for a city',
                parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
              },
              { name: 'now' },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
        generationConfig: { maxOutputTokens: 100, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } },
      },
    },
    {
      name: 'tool_choice auto / any / none',
      request: base({ tool_choice: { type: 'none' } }),
      body: {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        toolConfig: { functionCallingConfig: { mode: 'NONE' } },
        generationConfig: { maxOutputTokens: 100 },
      },
    },
    {
      name: 'server tools map to Gemini built-ins; thinking adaptive; json output',
      request: base({
        tools: [
          { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
          { type: 'code_execution_20250825', name: 'code_execution' },
        ],
        thinking: { type: 'adaptive' },
        output_config: { format: { type: 'json_schema', schema: { type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'null' }] } } } } },
      }),
      body: {
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        tools: [{ googleSearch: {} }, { codeExecution: {} }],
        generationConfig: {
          maxOutputTokens: 100,
          responseMimeType: 'application/json',
          responseJsonSchema: { type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'null' }] } } },
          thinkingConfig: { includeThoughts: true },
        },
      },
    },
    {
      name: 'thinking disabled asks for no thoughts (and says the client decided)',
      request: base({ thinking: { type: 'disabled' } }),
      body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], generationConfig: { maxOutputTokens: 100, thinkingConfig: { includeThoughts: false } } },
    },
    {
      name: 'multi-turn tool use: ids, names, signatures, results (string, blocks, error), images in results',
      request: base({
        messages: [
          user('Weather in Paris and Rome?'),
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'Two cities.', signature: 'c2lnLXRob3VnaHQ=' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: toolUseId('ab12cd34', 'c2ln+/si'), name: 'get_weather', input: { city: 'Paris' } },
              { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Rome' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: toolUseId('ab12cd34', 'c2ln+/si'), content: '18C sunny' },
              {
                type: 'tool_result',
                tool_use_id: 'toolu_01A09q90qw90lq917835lq9',
                is_error: true,
                content: [
                  { type: 'text', text: 'Service down' },
                  { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } },
                ],
              },
              { type: 'text', text: 'Summarise.' },
            ],
          },
        ],
      }),
      body: {
        contents: [
          { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
          {
            role: 'model',
            parts: [
              { text: 'Two cities.', thought: true, thoughtSignature: 'c2lnLXRob3VnaHQ=' },
              { text: 'Checking.' },
              { functionCall: { id: 'ab12cd34', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln+/si' },
              { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { id: 'ab12cd34', name: 'get_weather', response: { output: '18C sunny' } } },
              { functionResponse: { name: 'get_weather', response: { error: 'Service down' } } },
              { inlineData: { mimeType: 'image/png', data: 'AAA' } },
              { text: 'Summarise.' },
            ],
          },
        ],
        generationConfig: { maxOutputTokens: 100 },
      },
    },
    {
      name: 'a signature-only thinking block goes back onto the text part before it; redacted thinking is dropped',
      request: base({
        messages: [
          user('Hi'),
          {
            role: 'assistant',
            content: [
              { type: 'redacted_thinking', data: 'xyz' },
              { type: 'text', text: 'Hello!' },
              { type: 'thinking', thinking: '', signature: 'dGV4dC1zaWc=' },
            ],
          },
          user('Again'),
        ],
      }),
      body: {
        contents: [
          { role: 'user', parts: [{ text: 'Hi' }] },
          { role: 'model', parts: [{ text: 'Hello!', thoughtSignature: 'dGV4dC1zaWc=' }] },
          { role: 'user', parts: [{ text: 'Again' }] },
        ],
        generationConfig: { maxOutputTokens: 100 },
      },
    },
  ]

  for (const { name, request, body } of cases) {
    it(name, () => {
      expect(decodeMessagesRequest(request).body).toEqual(body)
    })
  }

  it('reads model, stream and whether thinking was asked for', () => {
    const decoded = decodeMessagesRequest(base({ model: 'models/gemini-2.5-pro', stream: true, thinking: { type: 'enabled', budget_tokens: 1024 } }))
    expect(decoded).toMatchObject({ model: 'gemini-2.5-pro', stream: true, thinking: true, media: [] })
    expect(decodeMessagesRequest(base()).thinking).toBe(false)
  })

  it('leaves http(s) images and documents for after auth, as empty parts filled in later', () => {
    const decoded = decodeMessagesRequest(
      base({
        messages: [
          user([
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
            { type: 'document', source: { type: 'url', url: 'https://example.com/paper.pdf' } },
          ]),
        ],
      }),
    )
    // Documents fall back to PDF when their server sends no type; images keep what their server says.
    expect(decoded.media.map((m) => [m.url, m.param, m.fallbackMimeType])).toEqual([
      ['https://example.com/cat.png', 'messages.0.content.0.source.url', undefined],
      ['https://example.com/paper.pdf', 'messages.0.content.1.source.url', 'application/pdf'],
    ])
    decoded.media[0]!.part.inlineData = { mimeType: 'image/png', data: 'QUJD' }
    expect(decoded.body.contents[0].parts[0]).toEqual({ inlineData: { mimeType: 'image/png', data: 'QUJD' } })
  })

  const invalid: [string, Record<string, unknown>, string][] = [
    ['missing model', { messages: [user('x')] }, 'model'],
    ['bad model name', { model: '../etc', messages: [user('x')] }, 'model'],
    ['messages not a list', { model: 'm', messages: 'hi' }, 'messages'],
    ['messages empty', { model: 'm', messages: [] }, 'messages'],
    ['bad role', { model: 'm', messages: [{ role: 'tool', content: 'x' }] }, 'messages.0.role'],
    ['bad block type', { model: 'm', messages: [user([{ type: 'video' }])] }, 'messages.0.content.0.type'],
    ['text not a string', { model: 'm', messages: [user([{ type: 'text', text: 3 }])] }, 'messages.0.content.0.text'],
    [
      'image without data',
      { model: 'm', messages: [user([{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }])] },
      'messages.0.content.0.source.data',
    ],
    [
      'file image source without file_id',
      { model: 'm', messages: [user([{ type: 'image', source: { type: 'file' } }])] },
      'messages.0.content.0.source.file_id',
    ],
    [
      'unknown tool_result id',
      { model: 'm', messages: [user([{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'r' }])] },
      'messages.0.content.0.tool_use_id',
    ],
    ['tool_use in a user message', { model: 'm', messages: [user([{ type: 'tool_use', id: 'a', name: 'f', input: {} }])] }, 'messages.0.content.0.type'],
    ['max_tokens not an integer', { model: 'm', max_tokens: 'lots', messages: [user('x')] }, 'max_tokens'],
    ['max_tokens zero', { model: 'm', max_tokens: 0, messages: [user('x')] }, 'max_tokens'],
    ['temperature not a number', { model: 'm', temperature: 'hot', messages: [user('x')] }, 'temperature'],
    ['stream not a boolean', { model: 'm', stream: 'yes', messages: [user('x')] }, 'stream'],
    ['stop_sequences not strings', { model: 'm', stop_sequences: [1], messages: [user('x')] }, 'stop_sequences.0'],
    ['thinking without budget', { model: 'm', thinking: { type: 'enabled' }, messages: [user('x')] }, 'thinking.budget_tokens'],
    ['thinking type unknown', { model: 'm', thinking: { type: 'maybe' }, messages: [user('x')] }, 'thinking.type'],
    ['tool_choice type unknown', { model: 'm', tool_choice: { type: 'some' }, messages: [user('x')] }, 'tool_choice.type'],
    ['tool_choice tool without name', { model: 'm', tool_choice: { type: 'tool' }, messages: [user('x')] }, 'tool_choice.name'],
    ['tool without name', { model: 'm', tools: [{ input_schema: { type: 'object' } }], messages: [user('x')] }, 'tools.0.name'],
    ['unsupported server tool', { model: 'm', tools: [{ type: 'bash_20250124', name: 'bash' }], messages: [user('x')] }, 'tools.0.type'],
  ]
  for (const [name, request, field] of invalid) {
    it(`400 naming the field: ${name}`, () => {
      let error: unknown
      try {
        decodeMessagesRequest(request)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(GatewayError)
      expect((error as GatewayError).status).toBe(400)
      expect((error as GatewayError).param).toBe(field)
      expect((error as GatewayError).message.startsWith(`${field}: `)).toBe(true)
    })
  }
})

describe('anthropic count_tokens → gemini countTokens body', () => {
  it('wraps contents, system and tools in a generateContentRequest naming the upstream model at send time', () => {
    let upstream = 'gemini-2.5-flash'
    const decoded = decodeCountTokensRequest(
      {
        model: 'fast',
        system: 'Sys.',
        messages: [user('count me')],
        tools: [{ name: 'f', description: 'does f', input_schema: { type: 'object', properties: { a: { type: 'string' } } } }],
        thinking: { type: 'enabled', budget_tokens: 1024 },
      },
      () => upstream,
    )
    expect(decoded.model).toBe('fast')
    upstream = 'gemini-2.5-pro' // a plugin (an alias) rewrote the upstream model after decoding
    expect(JSON.parse(JSON.stringify(decoded.body))).toEqual({
      generateContentRequest: {
        model: 'models/gemini-2.5-pro',
        contents: [{ role: 'user', parts: [{ text: 'count me' }] }],
        systemInstruction: { parts: [{ text: 'Sys.' }] },
        tools: [
          { functionDeclarations: [{ name: 'f', description: 'does f', parametersJsonSchema: { type: 'object', properties: { a: { type: 'string' } } } }] },
        ],
      },
    })
  })
})

describe('tool-use ids', () => {
  it('round-trip Gemini ids and signatures inside the id alphabet', () => {
    const signature = 'EukBCuYBAb4+9vt/vxxSqnu1O2VmsspptIIuZ5UI1XKt5qIGVw+l6Wp8gHTOskqE5v3VzNm9'
    const id = toolUseId('3ae8iwca', signature)
    expect(id).toMatch(/^toolu_gem-3ae8iwca__ts_[A-Za-z0-9_-]+$/)
    expect(parseToolUseId(id)).toEqual({ callId: '3ae8iwca', thoughtSignature: signature })
  })

  it('make a random id when Gemini gave none, and read foreign ids as carrying nothing', () => {
    const id = toolUseId(undefined, undefined)
    expect(id).toMatch(/^toolu_[A-Za-z0-9]{24}$/)
    expect(parseToolUseId(id)).toEqual({})
    expect(parseToolUseId('toolu_01A09q90qw90lq917835lq9')).toEqual({})
    expect(parseToolUseId('call_abc')).toEqual({})
    expect(parseToolUseId(toolUseId(undefined, 'c2lnbmF0dXJl'))).toEqual({ thoughtSignature: 'c2lnbmF0dXJl' })
    expect(parseToolUseId(toolUseId(undefined, 'c2lnbmF0dXI='))).toEqual({ thoughtSignature: 'c2lnbmF0dXI=' })
    // Not canonical base64: it could not come back unchanged, so it is not carried.
    expect(parseToolUseId(toolUseId('x1', 'not base64!'))).toEqual({ callId: 'x1' })
  })
})
