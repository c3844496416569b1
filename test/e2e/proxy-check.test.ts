import { createServer } from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProxyCheck, maskProxyUrl } from '../../core/upstream/proxy-check.ts'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { connectProxy, listen, socks5Proxy } from './fake-proxies.ts'

const PASSWORD = 'proxy-pass-7Qz9'

describe('proxy check', () => {
  let upstream: FakeUpstream
  const servers: net.Server[] = []
  const seen: string[] = []
  const socksSeen: string[] = []
  let httpPort = 0
  let socksPort = 0
  let closedPort = 0
  let silentPort = 0

  beforeAll(async () => {
    upstream = await startFakeUpstream()
    const http = connectProxy(seen)
    const socks = socks5Proxy(socksSeen)
    // Accepts the connection and never answers: a proxy that hangs.
    const silent = net.createServer(() => {})
    servers.push(http, socks, silent)
    ;[httpPort, socksPort, silentPort] = await Promise.all([listen(http), listen(socks), listen(silent)])
    const gone = net.createServer()
    closedPort = await listen(gone)
    await new Promise((resolve) => gone.close(resolve))
  })
  afterAll(async () => {
    for (const server of servers) server.close()
    await upstream.close()
  })

  it('masks the credentials of proxy URLs', () => {
    expect(maskProxyUrl('http://user:secret@host:8080')).toBe('http://user:****@host:8080')
    expect(maskProxyUrl('socks5://token@10.0.0.1:1080/')).toBe('socks5://****@10.0.0.1:1080/')
    expect(maskProxyUrl('https://u:p%40ss@proxy.example')).toBe('https://u:****@proxy.example')
    expect(maskProxyUrl('http://127.0.0.1:3128')).toBe('http://127.0.0.1:3128')
    expect(maskProxyUrl('http://host/path@x')).toBe('http://host/path@x')
  })

  it('reaches the target through an http proxy (with its credentials) and a socks5 proxy, and reports the ones that fail', async () => {
    const proxies = [
      `http://user:${PASSWORD}@127.0.0.1:${httpPort}`,
      `socks5://127.0.0.1:${socksPort}`,
      `http://user:${PASSWORD}@127.0.0.1:${closedPort}`,
      `http://127.0.0.1:${silentPort}`,
    ]
    const check = createProxyCheck({ proxies: () => proxies, target: () => upstream.origin, timeoutMs: 500 })
    expect(check.list()).toEqual([
      `http://user:****@127.0.0.1:${httpPort}`,
      `socks5://127.0.0.1:${socksPort}`,
      `http://user:****@127.0.0.1:${closedPort}`,
      `http://127.0.0.1:${silentPort}`,
    ])
    const before = Date.now()
    const results = await check.check()
    expect(results.map(({ index, proxy, ok }) => ({ index, proxy, ok }))).toEqual([
      { index: 0, proxy: `http://user:****@127.0.0.1:${httpPort}`, ok: true },
      { index: 1, proxy: `socks5://127.0.0.1:${socksPort}`, ok: true },
      { index: 2, proxy: `http://user:****@127.0.0.1:${closedPort}`, ok: false },
      { index: 3, proxy: `http://127.0.0.1:${silentPort}`, ok: false },
    ])
    const [http, socks, closed, silent] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0], (typeof results)[0]]
    expect(http.status).toBeGreaterThanOrEqual(200)
    expect(http.latencyMs).toBeGreaterThanOrEqual(0)
    expect(socks.status).toBe(http.status)
    expect(closed).toMatchObject({ latencyMs: null, error: expect.stringContaining('ECONNREFUSED') })
    expect(silent).toMatchObject({ latencyMs: null, error: 'no answer within 500 ms' })
    for (const result of results) expect(result.checkedAt).toBeGreaterThanOrEqual(before)
    expect(seen).toContain(`${new URL(upstream.origin).host} Basic ${Buffer.from(`user:${PASSWORD}`).toString('base64')}`)
    expect(socksSeen).toContain(new URL(upstream.origin).host)
    // Nothing secret went to the target: the check carries no key.
    expect(upstream.requests.filter((request) => request.key)).toEqual([])
    expect(JSON.stringify(results)).not.toContain(PASSWORD)
  })

  it('checks only the indexes asked for, refuses one that names no proxy, and follows a changed list', async () => {
    let proxies = [`http://127.0.0.1:${closedPort}`, `http://127.0.0.1:${httpPort}`]
    const check = createProxyCheck({ proxies: () => proxies, target: () => upstream.origin })
    expect((await check.check([1, 1])).map((result) => [result.index, result.ok])).toEqual([[1, true]])
    await expect(check.check([2])).rejects.toMatchObject({ status: 400, message: 'No proxy has index 2: there are 2.' })
    await expect(check.check([-1])).rejects.toMatchObject({ status: 400 })
    proxies = []
    expect(await check.check()).toEqual([])
    expect(check.list()).toEqual([])
  })

  it('checks at most five proxies at once', async () => {
    let inFlight = 0
    let most = 0
    const slow = createServer((_req, res) => {
      most = Math.max(most, ++inFlight)
      setTimeout(() => {
        inFlight--
        res.writeHead(204).end()
      }, 150)
    })
    const port = await listen(slow)
    try {
      // Distinct URLs, so that no two share a connection.
      const proxies = Array.from({ length: 12 }, (_, i) => `http://user${i}:pass@127.0.0.1:${httpPort}`)
      const started = performance.now()
      const results = await createProxyCheck({ proxies: () => proxies, target: () => `http://127.0.0.1:${port}/` }).check()
      expect(results.map((result) => [result.index, result.status])).toEqual(proxies.map((_, i) => [i, 204]))
      expect(most).toBe(5)
      expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 150 - 20)
    } finally {
      slow.close()
    }
  })
})
