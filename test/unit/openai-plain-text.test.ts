import { describe, expect, it } from 'vitest'
import { plainText } from '../../core/dialects/openai/plain-text.ts'
import type { ChatOptions } from '../../core/dialects/openai/request.ts'
import { encodeStream } from '../../core/dialects/openai/stream.ts'
import { Payload } from '../../core/payload.ts'
import { EventStream, readSseBatches } from '../../core/stream.ts'

// Google's own spelling of stream events (gemini-wire-samples.md): `": "` after keys, `,"` between members.
const google = (text: string, extra = '', usage = '"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 2,"totalTokenCount": 7}') =>
  `{"candidates": [{"content": {"parts": [{"text": ${JSON.stringify(text)}${extra}}],"role": "model"},"index": 0}],${usage},"modelVersion": "gemini-2.5-flash","responseId": "R1"}`

describe('plain text events read without a parse', () => {
  it("takes the text of Google's plain text event as the JSON string literal it is", () => {
    expect(plainText(google('Hello "you" \\ é 😀\n'))).toEqual({ literal: JSON.stringify('Hello "you" \\ é 😀\n'), usage: true })
    expect(plainText(google('x', '', '"modelVersion": "m"'))).toEqual({ literal: '"x"', usage: false })
    expect(plainText('{"candidates": [{"content": {"parts": [{"text": "a\\u00e9"}],"role": "model"}}],"modelVersion": "gemini-2.0-flash"}')).toEqual({
      literal: '"a\\u00e9"',
      usage: false,
    })
  })

  it('leaves every other event to the parser', () => {
    const others = [
      google('thinking', ',"thought": true'),
      google('x', ',"thoughtSignature": "SIG"'),
      google('x').replace('"index": 0}', '"finishReason": "STOP","index": 0}'),
      google('x').replace('"index": 0}', '"index": 1}'),
      google('x').replace('"index": 0}]', '"index": 0},{"content": {"parts": [{"text": "y"}],"role": "model"},"index": 1}]'),
      '{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {}}}],"role": "model"},"index": 0}]}',
      JSON.stringify({ candidates: [{ content: { parts: [{ text: 'x' }], role: 'model' }, index: 0 }] }),
      '{"candidates": [{"content": {"parts": [{"text": "raw\nnewline"}],"role": "model"},"index": 0}]}',
      '{"candidates": [{"content": {"parts": [{"text": "bad \\x escape"}],"role": "model"},"index": 0}]}',
      '{"candidates": [{"content": {"parts": [{"text": "bad \\u12 escape"}],"role": "model"},"index": 0}]}',
      '{"candidates": [{"content": {"parts": [{"text": "unterminated',
    ]
    for (const event of others) expect(plainText(event), event).toBeUndefined()
  })

  it('converts a stream to the very same OpenAI events whether its events are read or parsed', async () => {
    const events = [
      google(''),
      google('Hel'),
      google('lo "quoted" \\ é 😀 </script>\u2028'),
      google('thought', ',"thought": true'),
      google(''),
      google('!').replace('"index": 0}', '"finishReason": "STOP","index": 0}'),
    ]
    for (const includeUsage of [false, true]) {
      const options: ChatOptions = { kind: 'chat', model: 'gpt-ish', n: 1, includeUsage }
      const wire = (async function* () {
        yield new TextEncoder().encode(events.map((event) => `data: ${event}\r\n\r\n`).join(''))
      })()
      const parsed = (async function* () {
        for (const event of events) yield Payload.fromData(JSON.parse(event))
      })()
      const read = await text(encodeStream(new EventStream(readSseBatches(wire)), options))
      const built = await text(encodeStream(parsed, options))
      // Both take `created` from the clock: equal up to that.
      const sameSecond = (s: string) => s.replace(/"created":\d+/g, '"created":0')
      expect(sameSecond(read)).toBe(sameSecond(built))
      expect(read).toContain('"content":"Hel"')
      expect(read.endsWith('data: [DONE]\n\n')).toBe(true)
    }
  })
})

async function text(pieces: AsyncIterable<string>): Promise<string> {
  let out = ''
  for await (const piece of pieces) out += piece
  return out
}
