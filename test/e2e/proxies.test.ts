import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createIdHasher } from '../../core/identity.ts'
import { rendezvousProxy } from '../../core/upstream/proxies.ts'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { connectProxy, listen, socks5Proxy } from './fake-proxies.ts'
import { KEYS, post, startGateway, userText } from './harness.ts'

describe('outbound proxies', () => {
  let upstream: FakeUpstream
  beforeAll(async () => {
    upstream = await startFakeUpstream()
  })
  afterAll(() => upstream.close())

  it('rendezvous hashing keeps each key on its proxy and moves only the keys that must move', () => {
    const proxies = ['http://p1:1', 'http://p2:2', 'http://p3:3', 'http://p4:4']
    const keyId = createIdHasher('test-deployment-secret-of-32-chars')
    const ids = Array.from({ length: 400 }, (_, i) => keyId(`AIzaSy-key-${i}`))
    const before = new Map(ids.map((id) => [id, rendezvousProxy(id, proxies)]))
    expect(new Set(before.values()).size).toBe(4)
    for (const [id, proxy] of before) expect(rendezvousProxy(id, [...proxies].reverse())).toBe(proxy)
    // Remove p2: only its keys move.
    const without = proxies.filter((p) => p !== 'http://p2:2')
    for (const [id, proxy] of before) if (proxy !== 'http://p2:2') expect(rendezvousProxy(id, without)).toBe(proxy)
    // Add p5: the keys that move all move to p5, about a fifth of them.
    const moved = ids.filter((id) => rendezvousProxy(id, [...proxies, 'http://p5:5']) !== before.get(id))
    for (const id of moved) expect(rendezvousProxy(id, [...proxies, 'http://p5:5'])).toBe('http://p5:5')
    expect(moved.length).toBeGreaterThan(40)
    expect(moved.length).toBeLessThan(130)
  })

  it('sends upstream traffic through an HTTP proxy, with its credentials', async () => {
    const seen: string[] = []
    const proxy = connectProxy(seen)
    const port = await listen(proxy)
    const gw = await startGateway({ env: { PROXIES: `["http://user:pass@127.0.0.1:${port}"]` }, upstreamInstance: upstream })
    try {
      expect((await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('via proxy'))).status).toBe(200)
      expect(seen[0]).toBe(`${new URL(upstream.origin).host} Basic ${Buffer.from('user:pass').toString('base64')}`)
    } finally {
      await gw.close()
      proxy.close()
    }
  })

  it('sends upstream traffic through a SOCKS5 proxy', async () => {
    const seen: string[] = []
    const proxy = socks5Proxy(seen)
    const port = await listen(proxy)
    const gw = await startGateway({ env: { PROXIES: `socks5://127.0.0.1:${port}` }, upstreamInstance: upstream })
    try {
      const res = await post(gw, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', userText('socks'))
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('"finishReason": "STOP"')
      expect(seen).toEqual([new URL(upstream.origin).host])
    } finally {
      await gw.close()
      proxy.close()
    }
  })

  it("CUSTOM_HEADERS reach the upstream; the client's token never does", async () => {
    const gw = await startGateway({ env: { CUSTOM_HEADERS: '{"X-Team": "blue"}' }, upstreamInstance: upstream })
    try {
      upstream.reset()
      await post(gw, '/v1beta/models/gemini-2.5-flash:generateContent', userText('x'))
      const seen = upstream.requests.at(-1)!
      expect(seen.headers['x-team']).toBe('blue')
      expect(KEYS).toContain(seen.key)
      expect(JSON.stringify(seen.headers)).not.toContain('sk-gemgate-test')
    } finally {
      await gw.close()
    }
  })
})
