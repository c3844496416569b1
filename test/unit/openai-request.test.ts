import { describe, expect, it } from 'vitest'
import { decodeChatRequest } from '../../core/dialects/openai/request.ts'
import { decodeEmbeddingsRequest, batchEmbedBody } from '../../core/dialects/openai/embeddings.ts'
import { GatewayError } from '../../core/errors.ts'

const user = (content: unknown) => ({ role: 'user', content })
const base = (extra: Record<string, unknown> = {}) => ({ model: 'gemini-2.5-flash', messages: [user('hi')], ...extra })
const contentsOf = (text: string) => [{ role: 'user', parts: [{ text }] }]

/** OpenAI request in → Gemini body out. */
const cases: { name: string; in: Record<string, unknown>; out: Record<string, unknown> }[] = [
  { name: 'a bare request gets no defaults', in: base(), out: { contents: contentsOf('hi') } },
  {
    name: 'system and developer messages become the system instruction, anywhere in the list',
    in: base({ messages: [{ role: 'system', content: 'be brief' }, user('hi'), { role: 'developer', content: [{ type: 'text', text: 'no emoji' }] }] }),
    out: { contents: contentsOf('hi'), systemInstruction: { parts: [{ text: 'be brief' }, { text: 'no emoji' }] } },
  },
  {
    name: 'a system-only conversation becomes the prompt',
    in: base({ messages: [{ role: 'system', content: 'say hi' }] }),
    out: { contents: [{ role: 'user', parts: [{ text: 'say hi' }] }] },
  },
  {
    name: 'consecutive same-role turns merge; assistant is model',
    in: base({
      messages: [user('a'), user([{ type: 'text', text: 'b' }]), { role: 'assistant', content: 'c' }, { role: 'assistant', content: null }, user('')],
    }),
    out: {
      contents: [
        { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
        { role: 'model', parts: [{ text: 'c' }] },
      ],
    },
  },
  {
    name: 'content parts: data-URL image, audio, file data and file id',
    in: base({
      messages: [
        user([
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'data:image/jpg;base64,AAAA', detail: 'high' } },
          { type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE', filename: 'a.pdf' } },
          { type: 'file', file: { file_id: 'files/abc123', filename: 'notes.txt' } },
        ]),
      ],
    }),
    out: {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'look' },
            { inlineData: { mimeType: 'image/jpeg', data: 'AAAA' } },
            { inlineData: { mimeType: 'audio/wav', data: 'UklG' } },
            { inlineData: { mimeType: 'application/pdf', data: 'JVBE' } },
            { fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc123', mimeType: 'text/plain' } },
          ],
        },
      ],
    },
  },
  {
    name: 'assistant text then tool calls; parallel tool results in one user turn named from the calls',
    in: base({
      model: 'gemini-2.5-flash',
      messages: [
        user('weather?'),
        {
          role: 'assistant',
          content: 'checking',
          tool_calls: [
            { id: 'call_aaa', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_bbb', type: 'function', function: { name: 'time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_aaa', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_bbb', content: [{ type: 'text', text: 'noon' }] },
      ],
    }),
    out: {
      contents: [
        { role: 'user', parts: [{ text: 'weather?' }] },
        {
          role: 'model',
          parts: [{ text: 'checking' }, { functionCall: { name: 'weather', args: { city: 'Paris' } } }, { functionCall: { name: 'time', args: {} } }],
        },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'weather', response: { temp: 21 } } }, { functionResponse: { name: 'time', response: { output: 'noon' } } }],
        },
      ],
    },
  },
  {
    name: 'thought signatures come back from the id and from extra_content; Gemini ids go back upstream',
    in: base({
      model: 'gemini-3-flash-preview',
      messages: [
        user('add'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: '3ae8iwca__thought__SIG1', type: 'function', function: { name: 'sum', arguments: '{"a":2}' } },
            { id: 'up3kf30e', type: 'function', function: { name: 'sum', arguments: '{"a":4}' }, extra_content: { google: { thought_signature: 'SIG2' } } },
          ],
        },
        { role: 'tool', tool_call_id: '3ae8iwca__thought__SIG1', content: '5' },
        { role: 'tool', tool_call_id: 'up3kf30e', content: '9' },
        { role: 'assistant', content: 'done', extra_content: { google: { thought_signature: 'TEXTSIG' } } },
      ],
    }),
    out: {
      contents: [
        { role: 'user', parts: [{ text: 'add' }] },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'sum', args: { a: 2 }, id: '3ae8iwca' }, thoughtSignature: 'SIG1' },
            { functionCall: { name: 'sum', args: { a: 4 }, id: 'up3kf30e' }, thoughtSignature: 'SIG2' },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'sum', response: { output: '5' }, id: '3ae8iwca' } },
            { functionResponse: { name: 'sum', response: { output: '9' }, id: 'up3kf30e' } },
          ],
        },
        { role: 'model', parts: [{ text: 'done', thoughtSignature: 'TEXTSIG' }] },
      ],
    },
  },
  {
    name: 'Gemini 3: a tool call turn whose signature the client lost gets the documented stand-in',
    in: base({
      model: 'gemini-3-pro-preview',
      messages: [
        user('x'),
        {
          role: 'assistant',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } },
            { id: 'call_2', type: 'function', function: { name: 'f', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'a' },
        { role: 'tool', tool_call_id: 'call_2', content: 'b' },
      ],
    }),
    out: {
      contents: [
        { role: 'user', parts: [{ text: 'x' }] },
        {
          role: 'model',
          parts: [{ functionCall: { name: 'f', args: {} }, thoughtSignature: 'skip_thought_signature_validator' }, { functionCall: { name: 'f', args: {} } }],
        },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'f', response: { output: 'a' } } }, { functionResponse: { name: 'f', response: { output: 'b' } } }],
        },
      ],
    },
  },
  {
    name: 'tools keep their JSON Schema whole; tool_choice function → ANY with the name',
    in: base({
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Find',
            parameters: {
              type: 'object',
              properties: { q: { anyOf: [{ type: 'string' }, { $ref: '#/$defs/Q' }] } },
              $defs: { Q: { type: 'integer' } },
              required: ['q'],
            },
            strict: true,
          },
        },
        { type: 'function', function: { name: 'noargs', parameters: { type: 'object', properties: {} } } },
      ],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      parallel_tool_calls: false,
    }),
    out: {
      contents: contentsOf('hi'),
      tools: [
        {
          functionDeclarations: [
            {
              name: 'lookup',
              description: 'Find',
              parametersJsonSchema: {
                type: 'object',
                properties: { q: { anyOf: [{ type: 'string' }, { $ref: '#/$defs/Q' }] } },
                $defs: { Q: { type: 'integer' } },
                required: ['q'],
              },
            },
            { name: 'noargs' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['lookup'] } },
    },
  },
  ...(['none', 'auto', 'required'] as const).map((choice) => ({
    name: `tool_choice ${choice}`,
    in: base({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: choice }),
    out: {
      contents: contentsOf('hi'),
      tools: [{ functionDeclarations: [{ name: 'f' }] }],
      toolConfig: { functionCallingConfig: { mode: { none: 'NONE', auto: 'AUTO', required: 'ANY' }[choice] } },
    },
  })),
  {
    name: 'sampling, limits, stop, n, seed, penalties, logprobs',
    in: base({
      temperature: 0.3,
      top_p: 0.8,
      max_tokens: 50,
      max_completion_tokens: 70,
      stop: 'END',
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logprobs: true,
      top_logprobs: 3,
      user: 'u1',
      metadata: { a: 1 },
      some_future_field: true,
    }),
    out: {
      contents: contentsOf('hi'),
      generationConfig: {
        temperature: 0.3,
        topP: 0.8,
        maxOutputTokens: 70,
        stopSequences: ['END'],
        candidateCount: 2,
        seed: 7,
        presencePenalty: 0.5,
        frequencyPenalty: -0.5,
        responseLogprobs: true,
        logprobs: 3,
      },
    },
  },
  {
    name: 'stop list and max_tokens alone',
    in: base({ stop: ['a', 'b'], max_tokens: 9 }),
    out: { contents: contentsOf('hi'), generationConfig: { maxOutputTokens: 9, stopSequences: ['a', 'b'] } },
  },
  {
    name: 'response_format json_object',
    in: base({ response_format: { type: 'json_object' } }),
    out: { contents: contentsOf('hi'), generationConfig: { responseMimeType: 'application/json' } },
  },
  {
    name: 'response_format json_schema keeps the whole schema',
    in: base({
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'x', strict: true, schema: { type: 'object', properties: { a: { oneOf: [{ type: 'string' }, { type: 'null' }] } } } },
      },
    }),
    out: {
      contents: contentsOf('hi'),
      generationConfig: {
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object', properties: { a: { oneOf: [{ type: 'string' }, { type: 'null' }] } } },
      },
    },
  },
  {
    name: 'reasoning_effort on 2.5: a budget, thoughts included',
    in: base({ reasoning_effort: 'medium' }),
    out: { contents: contentsOf('hi'), generationConfig: { thinkingConfig: { thinkingBudget: 8192, includeThoughts: true } } },
  },
  {
    name: 'reasoning_effort none on 2.5 flash: budget 0',
    in: base({ reasoning_effort: 'none' }),
    out: { contents: contentsOf('hi'), generationConfig: { thinkingConfig: { thinkingBudget: 0 } } },
  },
  {
    name: 'reasoning_effort none on 2.5 pro: its minimum',
    in: base({ model: 'gemini-2.5-pro', reasoning_effort: 'none' }),
    out: { contents: contentsOf('hi'), generationConfig: { thinkingConfig: { thinkingBudget: 128 } } },
  },
  {
    name: 'reasoning_effort on a Gemini 3 Pro: low/high level',
    in: base({ model: 'gemini-3-pro-preview', reasoning_effort: 'medium' }),
    out: { contents: contentsOf('hi'), generationConfig: { thinkingConfig: { thinkingLevel: 'high', includeThoughts: true } } },
  },
  {
    name: 'reasoning_effort on a Gemini 3 Flash: the same level',
    in: base({ model: 'gemini-3-flash-preview', reasoning_effort: 'minimal' }),
    out: { contents: contentsOf('hi'), generationConfig: { thinkingConfig: { thinkingLevel: 'minimal', includeThoughts: true } } },
  },
  {
    name: 'reasoning_effort none on a Gemini 3 Pro: its lowest level, thoughts hidden',
    in: base({ model: 'gemini-3-pro-preview', reasoning_effort: 'none' }),
    out: { contents: contentsOf('hi'), generationConfig: { thinkingConfig: { thinkingLevel: 'low' } } },
  },
  {
    name: 'reasoning_effort on a model without thinking is dropped',
    in: base({ model: 'gemini-2.0-flash', reasoning_effort: 'high' }),
    out: { contents: contentsOf('hi') },
  },
  {
    name: "Google's extra_body.google options",
    in: base({
      reasoning_effort: 'low',
      extra_body: { google: { thinking_config: { thinking_budget: 800, include_thoughts: true }, cached_content: 'cachedContents/x' } },
    }),
    out: {
      contents: contentsOf('hi'),
      generationConfig: { thinkingConfig: { thinkingBudget: 800, includeThoughts: true } },
      cachedContent: 'cachedContents/x',
    },
  },
  {
    name: 'a googleSearch function asks for Google Search',
    in: base({ tools: [{ type: 'function', function: { name: 'googleSearch' } }] }),
    out: { contents: contentsOf('hi'), tools: [{ googleSearch: {} }] },
  },
  {
    name: 'nulls count as absent',
    in: base({ temperature: null, stop: null, tools: null, tool_choice: null, response_format: null, reasoning_effort: null, stream_options: null }),
    out: { contents: contentsOf('hi') },
  },
  {
    name: 'assistant markdown data images go back as images',
    in: base({ messages: [user('draw'), { role: 'assistant', content: 'Here:\n\n![image](data:image/png;base64,iVBO)\n\n' }, user('bluer')] }),
    out: {
      contents: [
        { role: 'user', parts: [{ text: 'draw' }] },
        { role: 'model', parts: [{ text: 'Here:' }, { inlineData: { mimeType: 'image/png', data: 'iVBO' } }] },
        { role: 'user', parts: [{ text: 'bluer' }] },
      ],
    },
  },
]

describe('OpenAI chat request → Gemini body', () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(decodeChatRequest(c.in).body).toEqual(c.out)
    })
  }

  it('options for the encoder: the client model string, n, include_usage; models/ prefix dropped for the pipeline', () => {
    const decoded = decodeChatRequest(base({ model: 'models/gemini-2.5-flash', n: 3, stream: true, stream_options: { include_usage: true } }))
    expect(decoded.model).toBe('gemini-2.5-flash')
    expect(decoded.stream).toBe(true)
    expect(decoded.options).toEqual({ kind: 'chat', model: 'models/gemini-2.5-flash', n: 3, includeUsage: true })
  })

  it('http(s) media is left for prepare, never fetched while decoding', () => {
    const decoded = decodeChatRequest(
      base({
        messages: [
          user([
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            { type: 'text', text: 'what is it' },
          ]),
        ],
      }),
    )
    expect(decoded.media).toHaveLength(1)
    expect(decoded.media[0]!.url).toBe('https://example.com/cat.png')
    expect(decoded.media[0]!.param).toBe('messages[0].content[0].image_url.url')
    decoded.media[0]!.part.inlineData = { mimeType: 'image/png', data: 'QUJD' }
    expect(decoded.body.contents[0].parts[0]).toEqual({ inlineData: { mimeType: 'image/png', data: 'QUJD' } })
  })

  it('YouTube links and Gemini file URIs are handed to Gemini as fileData', () => {
    const decoded = decodeChatRequest(base({ messages: [user([{ type: 'video_url', video_url: { url: 'https://www.youtube.com/watch?v=x' } }])] }))
    expect(decoded.media).toHaveLength(0)
    expect(decoded.body.contents[0].parts[0]).toEqual({ fileData: { fileUri: 'https://www.youtube.com/watch?v=x' } })
  })

  const bad: [string, Record<string, unknown>, string][] = [
    ['no model', { messages: [user('x')] }, 'model'],
    ['a bad model id', base({ model: 'a/b?c' }), 'model'],
    ['no messages', { model: 'gemini-2.5-flash' }, 'messages'],
    ['messages not an array', base({ messages: 'hi' }), 'messages'],
    ['an unknown role', base({ messages: [{ role: 'robot', content: 'x' }] }), 'messages[0].role'],
    ['a tool result without a call', base({ messages: [user('x'), { role: 'tool', tool_call_id: 'nope', content: 'r' }] }), 'messages[1].tool_call_id'],
    [
      'tool arguments that are not JSON',
      base({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] }),
      'messages[0].tool_calls[0].function.arguments',
    ],
    ['an unknown content part', base({ messages: [user([{ type: 'hologram' }])] }), 'messages[0].content[0].type'],
    [
      'an image in a system message',
      base({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } }] }, user('x')] }),
      'messages[0].content[0].type',
    ],
    ['a relative image URL', base({ messages: [user([{ type: 'image_url', image_url: { url: '/cat.png' } }])] }), 'messages[0].content[0].image_url.url'],
    ['temperature as a string', base({ temperature: 'hot' }), 'temperature'],
    ['temperature out of range', base({ temperature: 3 }), 'temperature'],
    ['n of zero', base({ n: 0 }), 'n'],
    ['max_tokens fractional', base({ max_tokens: 1.5 }), 'max_tokens'],
    ['stop of numbers', base({ stop: [1] }), 'stop'],
    ['top_logprobs without logprobs', base({ top_logprobs: 2 }), 'top_logprobs'],
    ['an unknown response_format', base({ response_format: { type: 'yaml' } }), 'response_format.type'],
    ['an unknown reasoning_effort', base({ reasoning_effort: 'extreme' }), 'reasoning_effort'],
    ['a non-function tool', base({ tools: [{ type: 'code_interpreter' }] }), 'tools[0].type'],
    ['a tool without a name', base({ tools: [{ type: 'function', function: {} }] }), 'tools[0].function.name'],
    [
      'tool_choice naming an unknown function',
      base({ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }),
      'tool_choice.function.name',
    ],
    ['tool_choice required without tools', base({ tool_choice: 'required' }), 'tool_choice'],
    ['stream not a boolean', base({ stream: 'yes' }), 'stream'],
  ]
  for (const [name, body, param] of bad) {
    it(`400 naming the field: ${name}`, () => {
      let error: unknown
      try {
        decodeChatRequest(body)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(GatewayError)
      expect((error as GatewayError).status).toBe(400)
      expect((error as GatewayError).param).toBe(param)
      expect((error as GatewayError).message).toContain(param)
    })
  }
})

describe('OpenAI embeddings request → Gemini batch', () => {
  it('a string, a list, dimensions, base64', () => {
    const one = decodeEmbeddingsRequest({ model: 'gemini-embedding-001', input: 'hello' })
    expect(one.inputs).toEqual(['hello'])
    expect(one.options).toEqual({ kind: 'embeddings', model: 'gemini-embedding-001', encoding: 'float' })
    const many = decodeEmbeddingsRequest({
      model: 'models/gemini-embedding-001',
      input: ['a', 'b'],
      dimensions: 256,
      encoding_format: 'base64',
      task_type: 'retrieval_query',
    })
    expect(batchEmbedBody(many.model, many.inputs, many.dimensions, many.taskType)).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, taskType: 'RETRIEVAL_QUERY', outputDimensionality: 256 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, taskType: 'RETRIEVAL_QUERY', outputDimensionality: 256 },
      ],
    })
  })

  for (const [name, body, param] of [
    ['token arrays', { model: 'm', input: [1, 2, 3] }, 'input'],
    ['lists of token arrays', { model: 'm', input: [[1, 2]] }, 'input'],
    ['an empty list', { model: 'm', input: [] }, 'input'],
    ['an empty string in a list', { model: 'm', input: ['a', ''] }, 'input[1]'],
    ['no input', { model: 'm' }, 'input'],
    ['an unknown encoding', { model: 'm', input: 'x', encoding_format: 'int8' }, 'encoding_format'],
    ['dimensions of zero', { model: 'm', input: 'x', dimensions: 0 }, 'dimensions'],
  ] as const) {
    it(`400 for ${name}`, () => {
      expect(() => decodeEmbeddingsRequest(body as Record<string, unknown>)).toThrow(expect.objectContaining({ status: 400, param }))
    })
  }
})
