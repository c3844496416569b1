import { H3 } from 'h3'
import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, nestsDeeperThan, parseBody, readBodyText } from '../../core/dialects/shared/body.ts'
import { GatewayError } from '../../core/errors.ts'

const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)
const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
/** `depth` levels in all: the body object, then arrays inside its one field. */
const body = (depth: number) => `{"contents":${arrays(depth - 1)}}`

describe('nestsDeeperThan', () => {
  it.each([
    ['[]', 1, false],
    ['[[]]', 1, true],
    ['{"a":[{"b":[]}]}', 4, false],
    ['{"a":[{"b":[]}]}', 3, true],
    ['[[],[],[]]', 2, false],
    ['[1,"x",null,true,{"a":"[[[["}]', 2, false],
    ['[1,"x",null,true,{"a":[]}]', 2, true],
    ['{"__proto__":{"a":{}}}', 2, true],
  ])('%s deeper than %i: %s', (text, limit, expected) => {
    expect(nestsDeeperThan(JSON.parse(text), limit)).toBe(expected)
  })

  it('agrees with the real depth at the limit, for arrays and objects, and stays safe far past it', () => {
    expect(nestsDeeperThan(JSON.parse(arrays(128)), 128)).toBe(false)
    expect(nestsDeeperThan(JSON.parse(arrays(129)), 128)).toBe(true)
    expect(nestsDeeperThan(JSON.parse(objects(128)), 128)).toBe(false)
    expect(nestsDeeperThan(JSON.parse(objects(129)), 128)).toBe(true)
    expect(nestsDeeperThan(JSON.parse(arrays(100_000)), 128)).toBe(true)
  })

  it('costs a few µs for a 20 KB chat body (the hot path)', () => {
    const messages = Array.from({ length: 54 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: [{ type: 'text', text: `Message ${i}: "quoted", a \\ backslash, [brackets] and {braces}. `.repeat(5) }],
    }))
    const text = JSON.stringify({ model: 'gemini-2.5-flash', messages, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] })
    expect(text.length).toBeGreaterThan(20_000)
    const value = JSON.parse(text)
    expect(nestsDeeperThan(value, MAX_JSON_DEPTH)).toBe(false)
    for (let i = 0; i < 500; i++) nestsDeeperThan(value, MAX_JSON_DEPTH)
    const runs = 2000
    const started = performance.now()
    for (let i = 0; i < runs; i++) nestsDeeperThan(value, MAX_JSON_DEPTH)
    const micros = ((performance.now() - started) / runs) * 1000
    // About 1-2 µs here (JSON.parse of the same text: ~40 µs); the bound leaves room for a loaded machine.
    expect(micros).toBeLessThan(15)
  })
})

describe('parseBody', () => {
  it(`takes ${MAX_JSON_DEPTH} levels, refuses ${MAX_JSON_DEPTH + 1} with a 400 that says why`, () => {
    expect(parseBody(body(128))).toHaveProperty('contents')
    const refused = (() => {
      try {
        parseBody(body(129))
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(GatewayError)
    expect(refused).toMatchObject({ status: 400, message: 'Invalid JSON payload received. The JSON nests deeper than 128 levels.' })
  })

  it('refuses 100,000 levels with a 400, without a stack overflow', () => {
    expect(() => parseBody(body(100_000))).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining('deeper than 128') }))
    expect(() => parseBody(`{"a":${objects(100_000)}}`)).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining('deeper than 128') }))
  })

  it('invalid JSON and non-objects are 400s; an empty body is an empty request', () => {
    expect(() => parseBody('{"a":')).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining('Invalid JSON payload') }))
    expect(() => parseBody('[1]')).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining('must be a JSON object') }))
    expect(parseBody('  ')).toEqual({})
  })
})

describe('readBodyText', () => {
  const app = new H3()
  app.post('/', async (event) => {
    try {
      return { text: await readBodyText(event, 1024) }
    } catch (error) {
      return { status: (error as GatewayError).status, message: (error as GatewayError).message }
    }
  })
  const chunked = (pieces: Uint8Array[]) =>
    app.request('/', {
      method: 'POST',
      body: new ReadableStream({
        pull(controller) {
          const piece = pieces.shift()
          if (piece) controller.enqueue(piece)
          else controller.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)

  it('a body without a length (chunked) is counted as it arrives and cut at the cap', async () => {
    const pieces = Array.from({ length: 100 }, () => new Uint8Array(100).fill(0x20))
    const answer = await (await chunked(pieces)).json()
    expect(answer).toEqual({ status: 413, message: expect.stringContaining('MAX_REQUEST_BODY_MB') })
    // It stopped reading: most of the 10 KB were never pulled.
    expect(pieces.length).toBeGreaterThan(80)
    expect(await (await chunked([new TextEncoder().encode('{"a":'), new TextEncoder().encode('1}')])).json()).toEqual({ text: '{"a":1}' })
  })

  it('a declared length over the cap is refused before reading', async () => {
    const answer = await (await app.request('/', { method: 'POST', body: 'x'.repeat(2000), headers: { 'content-length': '2000' } })).json()
    expect(answer).toMatchObject({ status: 413 })
  })

  it('bytes that are not UTF-8 are a 400, inside a JSON string or out; a multi-byte character split across pieces is fine', async () => {
    const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))
    for (const body of [bytes('{"text":"a', [0xff, 0xc3], 'b"}'), bytes('{"text":"a"', [0xff], '}')]) {
      expect(await (await chunked([body])).json()).toEqual({ status: 400, message: expect.stringContaining('not valid UTF-8') })
    }
    const euro = Buffer.from('{"text":"€"}')
    expect(await (await chunked([euro.subarray(0, 10), euro.subarray(10)])).json()).toEqual({ text: '{"text":"€"}' })
  })
})
