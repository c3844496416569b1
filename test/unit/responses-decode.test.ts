import { describe, expect, it } from 'vitest'
import { decodeResponsesRequest } from '../../core/dialects/responses/decode.ts'
import { GatewayError } from '../../core/errors.ts'

const NOW = Date.UTC(2026, 0, 1)
const decode = (body: Record<string, unknown>) => decodeResponsesRequest(body, NOW)
const user = (text: string) => ({ role: 'user', parts: [{ text }] })
const PNG = 'iVBORw0KGgo='

describe('Responses request → Gemini body', () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['a string input', { model: 'gemini-2.5-flash', input: 'Hi' }, { contents: [user('Hi')] }],
    [
      'instructions and system/developer messages → systemInstruction, in order',
      {
        model: 'gemini-2.5-flash',
        instructions: 'Be brief.',
        input: [
          { role: 'developer', content: 'Answer in French.' },
          { role: 'system', content: [{ type: 'input_text', text: 'No emojis.' }] },
          { role: 'user', content: 'Hello' },
        ],
      },
      { contents: [user('Hello')], systemInstruction: { parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }, { text: 'No emojis.' }] } },
    ],
    [
      'messages with parts: text, images (data URL), files, audio; assistant → model',
      {
        model: 'm',
        input: [
          {
            type: 'message',
            role: 'user',
            content: [
              { type: 'input_text', text: 'What is this?' },
              { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'auto' },
              { type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
              { type: 'input_file', filename: 'b.pdf', file_data: 'JVBERi0=' },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
            ],
          },
          { type: 'message', role: 'assistant', status: 'completed', id: 'msg_1', content: [{ type: 'output_text', text: 'A cat.', annotations: [] }] },
          { role: 'user', content: 'Thanks' },
        ],
      },
      {
        contents: [
          {
            role: 'user',
            parts: [
              { text: 'What is this?' },
              { inlineData: { mimeType: 'image/png', data: PNG } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
              { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
              { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
            ],
          },
          { role: 'model', parts: [{ text: 'A cat.' }] },
          user('Thanks'),
        ],
      },
    ],
    [
      'function calls and outputs: one model turn, parallel outputs grouped, Gemini ids kept, gateway ids dropped',
      {
        model: 'm',
        input: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
          { type: 'function_call', call_id: '3ae8iwca', name: 'weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call', call_id: 'call_x1', name: 'weather', arguments: '{"city":"Rome"}' },
          { type: 'function_call_output', call_id: '3ae8iwca', output: '{"temp":21}' },
          { type: 'function_call_output', call_id: 'call_x1', output: 'sunny, 25C' },
        ],
      },
      {
        contents: [
          user('Weather in Paris and Rome?'),
          {
            role: 'model',
            parts: [
              { text: 'Checking.' },
              { functionCall: { name: 'weather', args: { city: 'Paris' }, id: '3ae8iwca' } },
              { functionCall: { name: 'weather', args: { city: 'Rome' } } },
            ],
          },
          {
            role: 'user',
            parts: [
              { functionResponse: { name: 'weather', response: { temp: 21 }, id: '3ae8iwca' } },
              { functionResponse: { name: 'weather', response: { output: 'sunny, 25C' } } },
            ],
          },
        ],
      },
    ],
    [
      'thought signatures come back from reasoning items onto their parts (next, prev, own); foreign encrypted_content ignored',
      {
        model: 'm',
        input: [
          { role: 'user', content: 'Go' },
          { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thinking...' }], encrypted_content: 'gemgate.sig.v1.next.SIG_A' },
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
          { type: 'function_call_output', call_id: 'c1', output: 'ok' },
          { type: 'message', role: 'assistant', content: 'Done.' },
          { type: 'reasoning', id: 'rs_2', summary: [], encrypted_content: 'gemgate.sig.v1.prev.SIG_B' },
          { type: 'reasoning', id: 'rs_3', summary: [], encrypted_content: 'gAAAAABopenai-encrypted' },
          { type: 'reasoning', id: 'rs_4', summary: [], encrypted_content: 'gemgate.sig.v1.own.SIG_C' },
          { role: 'user', content: 'Again' },
        ],
      },
      {
        contents: [
          user('Go'),
          { role: 'model', parts: [{ functionCall: { name: 'f', args: {}, id: 'c1' }, thoughtSignature: 'SIG_A' }] },
          { role: 'user', parts: [{ functionResponse: { name: 'f', response: { output: 'ok' }, id: 'c1' } }] },
          {
            role: 'model',
            parts: [
              { text: 'Done.', thoughtSignature: 'SIG_B' },
              { text: '', thoughtSignature: 'SIG_C' },
            ],
          },
          user('Again'),
        ],
      },
    ],
    [
      'a next signature with nothing after it in its turn stays as an empty signed part',
      {
        model: 'm',
        input: [
          { role: 'user', content: 'a' },
          { type: 'reasoning', summary: [], encrypted_content: 'gemgate.sig.v1.next.S' },
          { role: 'user', content: 'b' },
        ],
      },
      { contents: [user('a'), { role: 'model', parts: [{ text: '', thoughtSignature: 'S' }] }, user('b')] },
    ],
    [
      'tools, tool_choice, sampling, max_output_tokens',
      {
        model: 'gemini-2.5-flash',
        input: 'x',
        tools: [
          {
            type: 'function',
            name: 'get_weather',
            description: 'Weather',
            strict: true,
            parameters: {
              type: 'object',
              properties: { city: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
              required: ['city'],
              additionalProperties: false,
            },
          },
          { type: 'function', name: 'now', parameters: { type: 'object', properties: {} } },
          { type: 'web_search' },
        ],
        tool_choice: 'required',
        temperature: 0.2,
        top_p: 0.9,
        max_output_tokens: 300,
        parallel_tool_calls: false,
        store: false,
        metadata: { a: '1' },
        include: ['reasoning.encrypted_content'],
        someFutureField: 1,
      },
      {
        contents: [user('x')],
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'Weather',
                parametersJsonSchema: {
                  type: 'object',
                  properties: { city: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
                  required: ['city'],
                  additionalProperties: false,
                },
              },
              { name: 'now' },
            ],
          },
          { googleSearch: {} },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY' } },
        generationConfig: { maxOutputTokens: 300, temperature: 0.2, topP: 0.9 },
      },
    ],
    ['tool_choice none', { model: 'm', input: 'x', tool_choice: 'none' }, { contents: [user('x')], toolConfig: { functionCallingConfig: { mode: 'NONE' } } }],
    ['tool_choice auto', { model: 'm', input: 'x', tool_choice: 'auto' }, { contents: [user('x')], toolConfig: { functionCallingConfig: { mode: 'AUTO' } } }],
    [
      'tool_choice a named function',
      { model: 'm', input: 'x', tool_choice: { type: 'function', name: 'f' } },
      { contents: [user('x')], toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } } },
    ],
    [
      'tool_choice allowed_tools',
      { model: 'm', input: 'x', tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }] } },
      { contents: [user('x')], toolConfig: { functionCallingConfig: { mode: 'VALIDATED', allowedFunctionNames: ['f'] } } },
    ],
    [
      'text.format json_schema → responseMimeType + responseJsonSchema (schema kept whole)',
      {
        model: 'm',
        input: 'x',
        text: {
          format: {
            type: 'json_schema',
            name: 'p',
            strict: true,
            schema: { type: 'object', properties: { n: { $ref: '#/$defs/N' } }, $defs: { N: { type: 'integer' } } },
          },
        },
      },
      {
        contents: [user('x')],
        generationConfig: {
          responseMimeType: 'application/json',
          responseJsonSchema: { type: 'object', properties: { n: { $ref: '#/$defs/N' } }, $defs: { N: { type: 'integer' } } },
        },
      },
    ],
    [
      'text.format json_object',
      { model: 'm', input: 'x', text: { format: { type: 'json_object' } } },
      { contents: [user('x')], generationConfig: { responseMimeType: 'application/json' } },
    ],
    ['text.format text adds nothing', { model: 'm', input: 'x', text: { format: { type: 'text' }, verbosity: 'low' } }, { contents: [user('x')] }],
    [
      'reasoning.effort on 2.5 → thinkingBudget with thoughts',
      { model: 'gemini-2.5-flash', input: 'x', reasoning: { effort: 'low' } },
      { contents: [user('x')], generationConfig: { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } } },
    ],
    [
      'reasoning.effort on Gemini 3 → thinkingLevel',
      { model: 'gemini-3-pro-preview', input: 'x', reasoning: { effort: 'high', summary: 'auto' } },
      { contents: [user('x')], generationConfig: { thinkingConfig: { thinkingLevel: 'high', includeThoughts: true } } },
    ],
    [
      'reasoning.effort none on 2.5 turns thinking off, no summaries',
      { model: 'gemini-2.5-flash', input: 'x', reasoning: { effort: 'none' } },
      { contents: [user('x')], generationConfig: { thinkingConfig: { thinkingBudget: 0 } } },
    ],
    [
      'reasoning.summary alone asks for thoughts without changing the budget',
      { model: 'gemini-2.5-flash', input: 'x', reasoning: { summary: 'detailed' } },
      { contents: [user('x')], generationConfig: { thinkingConfig: { includeThoughts: true } } },
    ],
    ['models/ prefix is dropped', { model: 'models/gemini-2.5-pro', input: 'x' }, { contents: [user('x')] }],
  ]

  it.each(cases)('%s', (_name, request, expected) => {
    expect(decode(request).body).toEqual(expected)
  })

  it('stream, model and echo options', () => {
    const decoded = decode({ model: 'models/gemini-2.5-pro', input: 'x', stream: true, instructions: 'I', temperature: 1 })
    expect(decoded.stream).toBe(true)
    expect(decoded.model).toBe('gemini-2.5-pro')
    expect(decoded.options).toMatchObject({
      kind: 'response',
      model: 'gemini-2.5-pro',
      createdAt: NOW / 1000,
      echo: { instructions: 'I', temperature: 1, tool_choice: 'auto', tools: [] },
    })
  })

  it('http(s) images and files become media slots filled after auth', () => {
    const decoded = decode({
      model: 'm',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_image', image_url: 'https://example.com/cat.png' },
            { type: 'input_file', file_url: 'https://example.com/a.pdf' },
          ],
        },
      ],
    })
    expect(decoded.media.map((m) => [m.url, m.param])).toEqual([
      ['https://example.com/cat.png', 'input[0].content[0].image_url'],
      ['https://example.com/a.pdf', 'input[0].content[1].file_url'],
    ])
    decoded.media[0]!.part.inlineData = { mimeType: 'image/png', data: PNG }
    expect(decoded.body.contents[0].parts[0]).toEqual({ inlineData: { mimeType: 'image/png', data: PNG } })
  })

  it('files of the Files API (by file_id) become fileData parts, for the key that owns them', () => {
    const decoded = decode({
      model: 'm',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_file', file_id: 'files/abc', filename: 'a.pdf' },
            { type: 'input_image', file_id: 'xyz' },
          ],
        },
      ],
    })
    expect(decoded.body.contents[0].parts).toEqual([
      { fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc', mimeType: 'application/pdf' } },
      { fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/xyz' } },
    ])
  })

  const refusals: [string, Record<string, unknown>, string, RegExp][] = [
    ['previous_response_id', { model: 'm', input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id', /stateless/],
    ['store: true', { model: 'm', input: 'x', store: true }, 'store', /not stored/],
    ['conversation', { model: 'm', input: 'x', conversation: 'conv_1' }, 'conversation', /stateless/],
    ['background', { model: 'm', input: 'x', background: true }, 'background', /not stored/],
    ['missing model', { input: 'x' }, 'model', /required/],
    ['missing input', { model: 'm' }, 'input', /required/],
    ['empty input list', { model: 'm', input: [] }, 'input', /no user or assistant content/],
    [
      'a file_id that is not a name',
      { model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 7 }] }] },
      'input[0].content[0].file_id',
      /must be a file name/,
    ],
    ['item_reference', { model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type', /stateless/],
    ['unknown item type', { model: 'm', input: [{ type: 'computer_call_output', call_id: 'x' }] }, 'input[0].type', /not supported/],
    ['hosted tool', { model: 'm', input: 'x', tools: [{ type: 'file_search', vector_store_ids: [] }] }, 'tools[0].type', /file_search.*not supported/],
    [
      'function_call_output without its call',
      { model: 'm', input: [{ type: 'function_call_output', call_id: 'c9', output: 'x' }] },
      'input[0].call_id',
      /no function_call with call_id "c9"/,
    ],
    ['bad arguments JSON', { model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{' }] }, 'input[0].arguments', /not valid JSON/],
    ['bad reasoning effort', { model: 'm', input: 'x', reasoning: { effort: 'max' } }, 'reasoning.effort', /must be one of/],
    [
      'image URL that is neither data nor http',
      { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'ftp://x/y.png' }] }] },
      'input[0].content[0].image_url',
      /data: URL or an http/,
    ],
  ]

  it.each(refusals)('refuses %s with a 400 naming the field', (_name, request, param, message) => {
    let caught: unknown
    try {
      decode(request)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(GatewayError)
    expect((caught as GatewayError).status).toBe(400)
    expect((caught as GatewayError).param).toBe(param)
    expect((caught as GatewayError).message).toMatch(message)
  })
})
