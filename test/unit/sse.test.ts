import type { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { readSsePayloads, responseBody } from '../../core/sse.ts'

const bytes = (...pieces: string[]) =>
  (async function* () {
    for (const piece of pieces) yield new TextEncoder().encode(piece)
  })()

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

describe('reading SSE', () => {
  it("reads Google's CRLF framing, events split across reads, and a last event without its blank line", async () => {
    const events = await collect(readSsePayloads(bytes('data: {"a":', '1}\r\n\r\ndata: {"b":2}\r\n', '\r\ndata: {"c":"ü"}')))
    expect(events.map((e) => e.data)).toEqual([{ a: 1 }, { b: 2 }, { c: 'ü' }])
  })

  it('keeps multi-byte characters split between reads intact', async () => {
    const encoded = new TextEncoder().encode('data: "é😀"\n\n')
    const split = (async function* () {
      for (const byte of encoded) yield new Uint8Array([byte])
    })()
    expect((await collect(readSsePayloads(split))).map((e) => e.text)).toEqual(['"é😀"'])
  })
})

describe('response bodies', () => {
  const chunksOf = async (body: BodyInit) => (await collect(body as unknown as Readable)).map(String)

  it('joins pieces that are ready together into one write', async () => {
    const ready = (async function* () {
      yield 'a'
      yield 'b'
      yield 'c'
    })()
    expect(await chunksOf(responseBody(ready))).toEqual(['abc'])
  })

  it('never waits for a piece that is not there yet', async () => {
    const spaced = (async function* () {
      yield 'a'
      await new Promise((r) => setTimeout(r, 20))
      yield 'b'
      yield 'c'
      await new Promise((r) => setTimeout(r, 20))
      yield 'd'
    })()
    expect(await chunksOf(responseBody(spaced))).toEqual(['a', 'bc', 'd'])
  })

  it('delivers what was ready before a failure surfaces', async () => {
    const failing = (async function* () {
      yield 'a'
      throw new Error('broken')
    })()
    const seen: string[] = []
    const error = await (async () => {
      for await (const chunk of responseBody(failing) as unknown as Readable) seen.push(String(chunk))
    })().catch((e) => e)
    expect(seen).toEqual(['a'])
    expect(error.message).toBe('broken')
  })
})
