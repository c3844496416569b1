import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PNG_BYTES, TOKEN, startGateway, type Running } from './harness.ts'

/**
 * A media host that shows what the gateway does to it: how many fetches it got, how many were open at once, and
 * how many connections were dropped before their answer was complete. `/png?ms=` answers after a delay,
 * `/hang` never answers, `/missing?ms=` is a 404 after a delay.
 */
async function startMediaHost() {
  const stats = { hits: 0, open: 0, peak: 0, dropped: 0 }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host')
    stats.hits++
    stats.open++
    stats.peak = Math.max(stats.peak, stats.open)
    res.on('close', () => {
      stats.open--
      if (!res.writableEnded) stats.dropped++
    })
    const ms = Number(url.searchParams.get('ms') ?? 0)
    if (url.pathname === '/hang') return
    setTimeout(() => {
      if (url.pathname === '/png') res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG_BYTES.length }).end(PNG_BYTES)
      else res.writeHead(404).end()
    }, ms)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    stats,
    url: (path: string) => origin + path,
    reset: () => Object.assign(stats, { hits: 0, open: 0, peak: 0, dropped: 0 }),
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await sleep(10)
  }
}

describe('media URLs in one request are bounded', () => {
  let gw: Running
  let host: Awaited<ReturnType<typeof startMediaHost>>

  beforeAll(async () => {
    gw = await startGateway({ env: { MEDIA_FETCH_ALLOW_PRIVATE: 'true', MEDIA_FETCH_TIMEOUT: '1' } })
    host = await startMediaHost()
  })
  afterAll(async () => {
    await gw.close()
    await host.close()
  })
  beforeEach(() => {
    gw.reset()
    host.reset()
  })

  const chat = (paths: string[], signal?: AbortSignal) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'look' }, ...paths.map((path) => ({ type: 'image_url', image_url: { url: host.url(path) } }))] },
        ],
      }),
      signal,
    })

  it('at most 4 fetches at once; every image reaches Gemini', async () => {
    const res = await chat(Array.from({ length: 10 }, () => '/png?ms=60'))
    expect(res.status).toBe(200)
    expect(host.stats.hits).toBe(10)
    expect(host.stats.peak).toBe(4)
    const parts = JSON.parse(gw.upstream.requests.at(-1)!.body).contents[0].parts
    expect(parts.filter((p: { inlineData?: unknown }) => p.inlineData)).toHaveLength(10)
  })

  it('more than 32 URLs: a 400 naming the limit, and not one fetch', async () => {
    const res = await chat(Array.from({ length: 33 }, () => '/png'))
    expect(res.status).toBe(400)
    const { error } = await res.json()
    expect(error.message).toContain('at most 32 are fetched per request (MEDIA_FETCH_MAX_URLS)')
    expect(error.param).toBe('messages[0].content[33].image_url.url')
    await sleep(100)
    expect(host.stats.hits).toBe(0)
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('the first failure answers at once: the fetches in flight are dropped, the queued ones never start', async () => {
    const started = Date.now()
    const res = await chat(['/hang', '/hang', '/hang', '/missing?ms=80', '/png', '/png', '/png'])
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toMatch(/^messages\[0\]\.content\[4\]\.image_url\.url: Fetching media .*\/missing answered 404\.$/)
    expect(Date.now() - started).toBeLessThan(900)
    await until(() => host.stats.open === 0)
    expect(host.stats.dropped).toBe(3)
    await sleep(100)
    expect(host.stats.hits).toBe(4)
    expect(gw.upstream.requests).toHaveLength(0)
  })

  it('the client leaving drops every fetch in flight and starts no more', async () => {
    const client = new AbortController()
    const answer = chat(
      Array.from({ length: 8 }, () => '/hang'),
      client.signal,
    ).catch((error: unknown) => error)
    await until(() => host.stats.open === 4)
    client.abort()
    expect(await answer).toMatchObject({ name: 'AbortError' })
    await until(() => host.stats.open === 0, 500)
    expect(host.stats.dropped).toBe(4)
    await sleep(100)
    expect(host.stats.hits).toBe(4)
  })

  it('a timeout, a refused connection and a name that does not resolve are said in words', async () => {
    const timedOut = await chat(['/hang'])
    expect(timedOut.status).toBe(400)
    expect((await timedOut.json()).error.message).toBe(
      `messages[0].content[1].image_url.url: Fetching media from ${new URL(host.url('/')).host} timed out after 1 s (MEDIA_FETCH_TIMEOUT).`,
    )

    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const refused = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `http://127.0.0.1:${port}/a.png` } }] }],
      }),
    })
    expect((await refused.json()).error.message).toBe(
      `messages[0].content[0].image_url.url: Could not fetch media from 127.0.0.1:${port}: the connection was refused.`,
    )

    const unresolved = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://no-such-host.invalid/a.png' } }] }],
      }),
    })
    expect((await unresolved.json()).error.message).toContain('no-such-host.invalid: its host name could not be resolved (DNS).')
  })
})
