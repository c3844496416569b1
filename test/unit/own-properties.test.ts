import { describe, expect, it } from 'vitest'
import { decodeMessagesRequest } from '../../core/dialects/anthropic/request.ts'
import { decodeChatRequest } from '../../core/dialects/openai/request.ts'
import { decodeResponsesRequest } from '../../core/dialects/responses/decode.ts'
import { mimeFromFileName } from '../../core/dialects/shared/mime.ts'
import { GatewayError } from '../../core/errors.ts'
import type { Json } from '../../core/internal/json.ts'

/**
 * Names every plain object inherits: a client string looked up in an object literal must find none of them, or a
 * function (Object, Object.prototype.toString, ...) or Object.prototype itself lands in the Gemini body.
 */
const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']

const chat = (extra: Json) => decodeChatRequest({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], ...extra })
const responses = (extra: Json) => decodeResponsesRequest({ model: 'gemini-2.5-flash', input: 'hi', ...extra })
const messages = (extra: Json) => decodeMessagesRequest({ model: 'gemini-2.5-flash', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...extra })
const chatFile = (file: Json) => chat({ messages: [{ role: 'user', content: [{ type: 'file', file }] }] })

/** Either a 400 naming `param`, or a decoded request checked by `ignored`. */
type Case = { field: string; decode: (name: string) => unknown } & ({ refused: string } | { ignored: (out: any, name: string) => void })

const cases: Case[] = [
  { field: 'responses tool_choice', decode: (name) => responses({ tool_choice: name }), refused: 'tool_choice' },
  { field: 'responses reasoning.effort', decode: (name) => responses({ reasoning: { effort: name } }), refused: 'reasoning.effort' },
  {
    field: 'responses input_file filename (bare base64 needs a known extension)',
    decode: (name) => responses({ input: [{ role: 'user', content: [{ type: 'input_file', filename: `x.${name}`, file_data: 'JVBERi0=' }] }] }),
    refused: 'input[0].content[0].file_data',
  },
  { field: 'chat tool_choice', decode: (name) => chat({ tool_choice: name }), refused: 'tool_choice' },
  { field: 'chat reasoning_effort', decode: (name) => chat({ reasoning_effort: name }), refused: 'reasoning_effort' },
  {
    field: 'chat extra_body.google.thinking_config key (passed on as sent, like any unknown key)',
    // Parsed from text, as a request body is: a `__proto__` key is then an own field, not the prototype.
    decode: (name) => chat({ extra_body: { google: { thinking_config: JSON.parse(`{"${name}": 1}`) } } }),
    ignored: (out, name) => {
      const config = out.body.generationConfig.thinkingConfig
      expect(Object.getPrototypeOf(config)).toBe(Object.prototype)
      expect(Object.entries(config)).toEqual([[name, 1]])
    },
  },
  {
    field: 'chat file filename with base64 file_data (falls back to PDF)',
    decode: (name) => chatFile({ filename: `x.${name}`, file_data: 'JVBERi0=' }),
    ignored: (out) => expect(out.body.contents[0].parts).toEqual([{ inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } }]),
  },
  {
    field: 'chat file filename with file_id (no mimeType sent)',
    decode: (name) => chatFile({ filename: `x.${name}`, file_id: 'files/abc' }),
    ignored: (out) => expect(out.body.contents[0].parts).toEqual([{ fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc' } }]),
  },
  { field: 'messages tool_choice (string)', decode: (name) => messages({ tool_choice: name }), refused: 'tool_choice' },
  { field: 'messages tool_choice.type', decode: (name) => messages({ tool_choice: { type: name } }), refused: 'tool_choice.type' },
  { field: 'messages thinking.type', decode: (name) => messages({ thinking: { type: name } }), refused: 'thinking.type' },
  {
    field: 'messages thinking.display',
    decode: (name) => messages({ thinking: { type: 'adaptive', display: name } }),
    ignored: (out) => expect(out.body.generationConfig).toEqual({ maxOutputTokens: 100, thinkingConfig: { includeThoughts: true } }),
  },
]

describe('client strings find only own properties', () => {
  const table = cases.flatMap((c) => INHERITED.map((name) => ({ ...c, name })))

  it.each(table)('$field = $name', (c) => {
    let out: unknown
    try {
      out = c.decode(c.name)
    } catch (error) {
      if (!('refused' in c)) throw error
      expect(error).toBeInstanceOf(GatewayError)
      expect(error).toMatchObject({ status: 400, param: c.refused })
      return
    }
    if ('refused' in c) expect.fail(`accepted: ${JSON.stringify(out)}`)
    expectPlainData(out)
    expect(JSON.stringify(out)).not.toContain('function')
    c.ignored(out, c.name)
  })

  it.each(INHERITED)('no MIME type for a file named x.%s', (name) => {
    expect(mimeFromFileName(`x.${name}`)).toBeUndefined()
    expect(mimeFromFileName(`x.${name.toLowerCase()}`)).toBeUndefined()
  })

  it('the shared MIME table still knows the usual names', () => {
    expect(['a.PDF', 'notes.txt', '/img/cat.jpg', 'song.mp3', 'clip.mov', 'pdf', 'x.'].map(mimeFromFileName)).toEqual([
      'application/pdf',
      'text/plain',
      'image/jpeg',
      'audio/mpeg',
      'video/quicktime',
      undefined,
      undefined,
    ])
  })
})

/** Only strings, numbers, booleans, null, arrays and plain objects: no function and no borrowed prototype anywhere. */
function expectPlainData(value: unknown, path = '$'): void {
  expect(typeof value, path).not.toBe('function')
  if (typeof value !== 'object' || value === null) return
  expect([Object.prototype, Array.prototype], `prototype at ${path}`).toContain(Object.getPrototypeOf(value))
  for (const key of Reflect.ownKeys(value)) {
    expect(typeof key, `symbol key at ${path}`).toBe('string')
    expectPlainData((value as Json)[key as string], `${path}.${String(key)}`)
  }
}
