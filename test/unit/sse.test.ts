import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Payload } from '../../core/payload.ts'
import { responseBody, sseData, sseEvents } from '../../core/sse.ts'
import { EventBatch, EventStream, batchesOf, readSseBatches } from '../../core/stream.ts'

const encoder = new TextEncoder()
const bytes = (...pieces: (string | Uint8Array)[]) =>
  (async function* () {
    for (const piece of pieces) yield typeof piece === 'string' ? encoder.encode(piece) : piece
  })()

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

const textsOf = async (...pieces: (string | Uint8Array)[]) => (await collect(readSseBatches(bytes(...pieces)))).flatMap((batch) => batch.texts)
const rawOf = (batch: EventBatch) => Buffer.from(batch.sse!).toString()

describe('reading SSE', () => {
  it("reads Google's CRLF framing, events split across reads, and a last event without its blank line", async () => {
    const events = await collect(new EventStream(readSseBatches(bytes('data: {"a":', '1}\r\n\r\ndata: {"b":2}\r\n', '\r\ndata: {"c":"ü"}'))))
    expect(events.map((e) => e.data)).toEqual([{ a: 1 }, { b: 2 }, { c: 'ü' }])
  })

  it('keeps multi-byte characters split between reads intact', async () => {
    const split = [...encoder.encode('data: "é😀"\n\n')].map((byte) => new Uint8Array([byte]))
    expect(await textsOf(...split)).toEqual(['"é😀"'])
  })

  it("hands out each read's complete events as one batch of the upstream's own bytes", async () => {
    const batches = await collect(readSseBatches(bytes('data: 1\r\n\r\ndata: 2\r\n\r\ndata: 3', '\r\n\r\n', 'data: 4\r\n\r\n')))
    expect(batches.map(rawOf)).toEqual(['data: 1\r\n\r\ndata: 2\r\n\r\n', 'data: 3\r\n\r\n', 'data: 4\r\n\r\n'])
    expect(batches.map((batch) => batch.texts)).toEqual([['1', '2'], ['3'], ['4']])
  })

  it('finds a blank line that straddles two reads, in every line ending', async () => {
    expect((await collect(readSseBatches(bytes('data: 1\r\n\r', '\ndata: 2\r\n', '\r\n')))).map(rawOf)).toEqual(['data: 1\r\n\r\n', 'data: 2\r\n\r\n'])
    expect((await collect(readSseBatches(bytes('data: 1\n', '\ndata: 2\r', '\r')))).map(rawOf)).toEqual(['data: 1\n\n', 'data: 2\r\r'])
  })

  it('ends an unterminated last event with a blank line in its own line ending', async () => {
    const last = async (tail: string) => rawOf((await collect(readSseBatches(bytes(tail)))).at(-1)!)
    expect(await last('data: 1')).toBe('data: 1\r\n\r\n')
    expect(await last('data: 1\r\n')).toBe('data: 1\r\n\r\n')
    expect(await last('data: 1\n')).toBe('data: 1\n\n')
  })

  it('reads fields as the SSE standard does: joined data lines, comments, other fields and data-less events skipped', () => {
    const data = (text: string) => sseData(encoder.encode(text))
    expect(data('data: a\ndata:b\ndata\n\n: comment\n\nevent: x\nid: 7\ndata:  c\n\nretry: 5\n\ndatabase: no\n\n')).toEqual(['a\nb\n', ' c'])
    expect(data('data: a\rdata: b\r\rdata: c\r\n\r\n')).toEqual(['a\nb', 'c'])
    expect(data('\ufeffdata: 1\n\ndata:\n\n')).toEqual(['1', ''])
  })

  it.each([
    ['CRLF framing', 'data: {"a":1}\r\n\r\ndata: {"b":2}\r\n\r\n', ['data: {"a":1}\r\n', 'data: {"b":2}\r\n']],
    ['LF and CR framing, several lines an event', 'data: a\ndata: b\n\nid: 7\rdata: c\r\r', ['data: a\ndata: b\n', 'id: 7\rdata: c\r']],
    ['comments and blank lines between events', ': ping\n\n\n\ndata: x\n\n', [': ping\n', 'data: x\n']],
    ['a byte order mark, a last event without its blank line', '\ufeffdata: 1\n\ndata: 2', ['data: 1\n', 'data: 2']],
  ])('finds where each event lies without decoding it: %s', (_what, text, expected) => {
    const raw = Buffer.from(text)
    const ranges = sseEvents(raw)
    const events = []
    for (let i = 0; i < ranges.length; i += 2) events.push(raw.toString('utf8', ranges[i], ranges[i + 1]))
    expect(events).toEqual(expected)
    // Each range is one event as sseData reads it.
    for (let i = 0; i < ranges.length; i += 2) expect(sseData(raw.subarray(ranges[i], ranges[i + 1])).length).toBeLessThanOrEqual(1)
  })

  it("finds a batch's first event without reading the rest, and none in a keep-alive or comments", async () => {
    const [comments, events] = await collect(readSseBatches(bytes(': ping\r\n\r\n', 'data: {"a":1}\r\n\r\ndata: {"b":2}\r\n\r\n')))
    expect(comments!.firstEvent()).toBeUndefined()
    expect(events!.firstEvent()?.data).toEqual({ a: 1 })
    expect(EventBatch.keepAlive.firstEvent()).toBeUndefined()
    expect(sseData(encoder.encode('data: 1\n\ndata: 2\n\n'), 1)).toEqual(['1'])
  })

  it('gives any stream of Payloads as batches, one Payload each, keep-alives kept', async () => {
    const payloads = (async function* () {
      yield Payload.fromData({ a: 1 })
      yield Payload.keepAlive
    })()
    const batches = await collect(batchesOf(payloads))
    expect(batches.map((batch) => [batch.keepAlive, batch.sse, batch.texts])).toEqual([
      [false, undefined, ['{"a":1}']],
      [true, undefined, []],
    ])
  })
})

describe('response bodies', () => {
  let server: Server | undefined
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())))

  /** Serves `pieces` once over real HTTP; returns the socket reads the client saw and how the body ended. */
  async function serveOnce(pieces: AsyncIterable<string | Uint8Array>): Promise<{ reads: string[]; body: string; complete: boolean }> {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      ;(responseBody(pieces) as unknown as { pipe(out: NodeJS.WritableStream): void }).pipe(res)
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const socket = connect(port, '127.0.0.1')
    socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
    const raw: string[] = []
    socket.on('data', (data) => raw.push(data.toString()))
    await new Promise((resolve) => socket.on('close', resolve))
    // The first read starts with the head; the body is chunked (`<hex size>\r\n<data>\r\n`, then `0\r\n\r\n`).
    const bodies = raw.map((read, i) => (i === 0 ? read.slice(read.indexOf('\r\n\r\n') + 4) : read))
    const data = (text: string) => [...text.matchAll(/([0-9a-f]+)\r\n([^]*?)\r\n/g)].map((m) => m[2]).join('')
    return { reads: bodies.map(data).filter(Boolean), body: data(bodies.join('')), complete: bodies.join('').endsWith('0\r\n\r\n') }
  }

  it('writes pieces that are ready together in one write', async () => {
    const ready = (async function* () {
      yield 'a'
      yield encoder.encode('b')
      yield 'c'
    })()
    const { reads, body, complete } = await serveOnce(ready)
    expect(body).toBe('abc')
    expect(reads).toEqual(['abc'])
    expect(complete).toBe(true)
  })

  it('never waits for a piece that is not there yet', async () => {
    const spaced = (async function* () {
      yield 'a'
      await new Promise((r) => setTimeout(r, 50))
      yield 'b'
      yield 'c'
      await new Promise((r) => setTimeout(r, 50))
      yield 'd'
    })()
    const { reads } = await serveOnce(spaced)
    expect(reads).toEqual(['a', 'bc', 'd'])
  })

  it('delivers what came before a failure, then cuts the connection instead of ending cleanly', async () => {
    const failing = (async function* () {
      yield 'a'
      throw new Error('broken')
    })()
    const { body, complete } = await serveOnce(failing)
    expect(body).toBe('a')
    expect(complete).toBe(false)
  })
})
