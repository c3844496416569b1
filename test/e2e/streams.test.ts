import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KEYS, TOKEN, post, startGateway, userText, type Running } from './harness.ts'

const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
const [K1, K2, K3] = KEYS as [string, string, string]

async function sseEvents(res: Response): Promise<any[]> {
  const text = await res.text()
  return text
    .split('\r\n\r\n')
    .filter(Boolean)
    .map((event) => JSON.parse(event.replace(/^data: /, '')))
}

describe('streaming', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ upstream: { streamChunks: 4 } })
  })
  afterAll(() => gw.close())
  beforeEach(() => {
    gw.reset()
  })

  it("relays Google's SSE byte for byte", async () => {
    const res = await post(gw, STREAM, userText('byte exact'))
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const text = await res.text()
    expect(text).toMatch(/^data: \{"candidates": \[\{"content": \{"parts": \[\{"text": /)
    expect(text.split('\r\n\r\n').filter(Boolean)).toHaveLength(4)
    expect(text.endsWith('\r\n\r\n')).toBe(true)
  })

  it('chunks leave as they arrive, not buffered', async () => {
    const slow = await startGateway({ upstream: { streamChunks: 3, chunkIntervalMs: 300 } })
    try {
      const res = await post(slow, STREAM, userText('a b c'))
      const reader = res.body!.getReader()
      const started = Date.now()
      const arrivals: number[] = []
      for (;;) {
        const { done } = await reader.read()
        if (done) break
        arrivals.push(Date.now() - started)
      }
      expect(arrivals.length).toBeGreaterThanOrEqual(3)
      expect(arrivals[0]).toBeLessThan(200)
      expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(450)
    } finally {
      await slow.close()
    }
  })

  it('a failure before the first event is retried on another key', async () => {
    gw.upstream.setBehaviour(K1, 'rate-minute')
    gw.upstream.setBehaviour(K2, 'reset-before-headers')
    gw.upstream.setBehaviour(K3, 'empty')
    gw.upstream.setBehaviour(K3, 'ok')
    const events = await sseEvents(await post(gw, STREAM, userText('retry me')))
    expect(events.map((e) => e.candidates[0].content.parts[0].text).join('')).toBe('Echo: retry me')
  })

  it('when every key answers an empty stream, the last empty answer is what Google said, after trying each key', async () => {
    const empty = { candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }], modelVersion: 'gemini-2.5-flash' }
    for (const key of KEYS) gw.upstream.script(key, { chunks: [empty] })
    const events = await sseEvents(await post(gw, STREAM, userText('say nothing')))
    expect(events).toEqual([empty])
    expect(gw.upstream.requests).toHaveLength(3)
  })

  it('a stream that breaks after the first event ends with an error the SDK raises, never a clean end', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'reset-mid-stream')
    const ai = gw.genai()
    let text = ''
    const error = await (async () => {
      for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'break please' })) text += chunk.text ?? ''
    })().catch((e) => e)
    expect(error).toBeInstanceOf(Error)
    expect(String(error.message)).toMatch(/stream broke|incomplete/i)
    expect(text.length).toBeGreaterThan(0)
    expect(gw.upstream.requests).toHaveLength(1) // no retry once bytes were sent: no spliced answers
  })

  it('a stream that ends without a finishReason is reported as truncated', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'truncated-stream')
    const events = await sseEvents(await post(gw, STREAM, userText('cut short')))
    expect(events.at(-1)).toMatchObject({ error: { code: 502, status: 'UNAVAILABLE' } })
    expect(events.at(-1).error.message).toContain('without a finish reason')
  })

  it('errors before the stream starts come back with the upstream status', async () => {
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'location')
    const res = await post(gw, STREAM, userText('x'))
    expect(res.status).toBe(400)
    expect((await res.json()).error.status).toBe('FAILED_PRECONDITION')
  })

  it('a client that disconnects aborts the upstream call at once', async () => {
    // A stand-in upstream that streams for 5 s and notes when its client (the gateway) goes away.
    let closedAfter = -1
    const slowUpstream = createServer((req, res) => {
      const opened = Date.now()
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const chunk = { candidates: [{ content: { role: 'model', parts: [{ text: 'word ' }] } }] }
      const timer = setInterval(() => res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`), 100)
      res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`)
      res.on('close', () => {
        clearInterval(timer)
        closedAfter = Date.now() - opened
      })
      req.resume()
    })
    await new Promise<void>((resolve) => slowUpstream.listen(0, '127.0.0.1', resolve))
    const port = (slowUpstream.address() as AddressInfo).port
    const viaSlow = await startGateway({ env: { BASE_URL: `http://127.0.0.1:${port}/v1beta` }, upstreamInstance: gw.upstream })
    try {
      const url = new URL(viaSlow.url + STREAM)
      await new Promise<void>((resolve, reject) => {
        const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': TOKEN } }, (res) => {
          res.once('data', () =>
            setTimeout(() => {
              req.destroy()
              resolve()
            }, 250),
          )
        })
        req.on('error', () => {})
        req.end(JSON.stringify(userText('long story')))
        setTimeout(() => reject(new Error('no data')), 3000)
      })
      // oxlint-disable-next-line no-unmodified-loop-condition -- the upstream's close handler sets it
      for (let i = 0; i < 20 && closedAfter < 0; i++) await new Promise((r) => setTimeout(r, 50))
      expect(closedAfter).toBeGreaterThan(200)
      expect(closedAfter).toBeLessThan(1000)
      await viaSlow.gateway.logs.flush()
      const { rows } = await viaSlow.gateway.database.db.sql`SELECT failure_class FROM request_logs`
      expect(rows).toEqual([{ failure_class: 'client-cancelled' }])
    } finally {
      await viaSlow.close()
      slowUpstream.close()
    }
  })

  it('the stream optimizer re-emits long chunks in small steady pieces, usage once at the end', async () => {
    const smooth = await startGateway({
      env: { STREAM_OPTIMIZER_ENABLED: 'true', STREAM_MIN_DELAY: '0.001', STREAM_MAX_DELAY: '0.002' },
      upstream: { streamChunks: 1 },
    })
    try {
      const events = await sseEvents(await post(smooth, STREAM, userText('this sentence is long enough to be split into many small pieces')))
      expect(events.length).toBeGreaterThan(5)
      expect(events.map((e) => e.candidates[0].content.parts[0].text).join('')).toBe('Echo: this sentence is long enough to be split into many small pieces')
      expect(events.filter((e) => e.usageMetadata)).toHaveLength(1)
      expect(events.at(-1).candidates[0].finishReason).toBe('STOP')
    } finally {
      await smooth.close()
    }
  })
})
