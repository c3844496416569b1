import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOKEN, startGateway, userText, type Running } from './harness.ts'

// A client that reads slowly must hold the upstream back: the gateway keeps a bounded buffer per stream, never the
// whole answer. A stand-in upstream streams a long answer as fast as its socket takes it and counts what it sent;
// the client stops reading after the first bytes. Whatever the upstream got rid of is then somewhere between the two:
// in the kernel's socket buffers or in the gateway. The kernel's share has a ceiling (here tcp_rmem's 32 MB for the
// gateway's receive side, once autotuning grew it while the gateway read at full speed, plus a few MB of send
// buffers); without backpressure the gateway would read the whole answer, twice that.
const EVENT_TEXT = 'x'.repeat(64 * 1024)
const EVENTS = 1536 // 96 MB
const HELD_BACK = 56 * 1024 * 1024
const SLOW = 60_000

interface Upstream {
  server: Server
  /** Bytes the upstream handed to its socket in the current answer. */
  sent: number
  finished: boolean
}

function startUpstream(): Promise<Upstream> {
  const upstream: Upstream = { server: createServer(), sent: 0, finished: false }
  upstream.server.on('request', (req, res) => {
    req.resume()
    upstream.sent = 0
    upstream.finished = false
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let i = 0
    const more = () => {
      while (i < EVENTS) {
        const last = i === EVENTS - 1
        const chunk = { candidates: [{ content: { parts: [{ text: EVENT_TEXT }], role: 'model' }, ...(last ? { finishReason: 'STOP' } : {}), index: 0 }] }
        const event = `data: ${JSON.stringify(chunk)}\r\n\r\n`
        i++
        upstream.sent += Buffer.byteLength(event)
        if (!res.write(event)) return void res.once('drain', more)
      }
      upstream.finished = true
      res.end()
    }
    more()
  })
  return new Promise((resolve) => upstream.server.listen(0, '127.0.0.1', () => resolve(upstream)))
}

/** Resolves once `read()` stops changing for `quietMs` (or after `maxMs`). */
async function settled(read: () => number, quietMs = 400, maxMs = 10_000): Promise<number> {
  const deadline = Date.now() + maxMs
  let last = read()
  let stableSince = Date.now()
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const now = read()
    if (now !== last) {
      last = now
      stableSince = Date.now()
    } else if (Date.now() - stableSince >= quietMs) break
  }
  return last
}

describe('a slow client holds the upstream back', () => {
  let upstream: Upstream
  let gw: Running
  beforeAll(async () => {
    upstream = await startUpstream()
    const { port } = upstream.server.address() as AddressInfo
    gw = await startGateway({ env: { BASE_URL: `http://127.0.0.1:${port}/v1beta` } })
  })
  afterAll(async () => {
    await gw.close()
    upstream.server.close()
  })

  async function pausedRead(path: string, body: unknown, headers: Record<string, string>) {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(new URL(gw.url + path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, agent: false }, resolve)
      req.on('error', reject)
      req.end(JSON.stringify(body))
    })
    expect(res.statusCode).toBe(200)
    let received = 0
    const pieces: Buffer[] = []
    // Take the first piece, then stop reading for a while.
    const first = new Promise<number>((resolve) => {
      res.on('data', (piece: Buffer) => {
        received += piece.length
        pieces.push(piece)
        if (pieces.length === 1) {
          res.pause()
          resolve(received)
        }
      })
    })
    const readFirst = await first
    const sentWhilePaused = await settled(() => upstream.sent)
    const finishedWhilePaused = upstream.finished
    const ended = new Promise((resolve) => res.on('end', resolve))
    res.resume()
    await ended
    return { finishedWhilePaused, aheadOfClient: sentWhilePaused - readFirst, received, text: Buffer.concat(pieces).toString() }
  }

  it('native stream: the upstream waits for the client, and every byte arrives as Google sent it', { timeout: SLOW }, async () => {
    const result = await pausedRead('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', userText('long'), { 'x-goog-api-key': TOKEN })
    expect(result.finishedWhilePaused, `${result.aheadOfClient} bytes ahead of the client`).toBe(false)
    expect(result.aheadOfClient).toBeLessThan(HELD_BACK)
    expect(upstream.finished).toBe(true)
    expect(result.received).toBe(upstream.sent)
    expect(result.text.split('\r\n\r\n').filter(Boolean)).toHaveLength(EVENTS)
  })

  it('converted (OpenAI) stream: the same bound, and the whole answer converted', { timeout: SLOW }, async () => {
    const body = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'long' }], stream: true }
    const result = await pausedRead('/v1/chat/completions', body, { authorization: `Bearer ${TOKEN}` })
    expect(result.finishedWhilePaused, `${result.aheadOfClient} bytes ahead of the client`).toBe(false)
    expect(result.aheadOfClient).toBeLessThan(HELD_BACK)
    expect(upstream.finished).toBe(true)
    const events = result.text.split('\n\n').filter(Boolean)
    expect(events.at(-1)).toBe('data: [DONE]')
    const content = events
      .slice(0, -1)
      .map((event) => JSON.parse(event.slice(6)).choices[0]?.delta?.content ?? '')
      .join('')
    expect(content.length).toBe(EVENTS * EVENT_TEXT.length)
  })
})
