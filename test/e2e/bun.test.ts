import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { startBunGateway, type BunGateway } from './bun-gateway.ts'
import { KEYS, TOKEN, userText } from './harness.ts'

/** `bun serve.ts`: the same gateway on the Bun runtime (Bun.serve, Bun's fetch, bun:sqlite). */
describe('on Bun', () => {
  let upstream: FakeUpstream
  let gateway: BunGateway | undefined
  let url = ''

  beforeAll(async () => {
    upstream = await startFakeUpstream()
    gateway = await startBunGateway(upstream.url)
    url = gateway.url
  }, 20_000)

  afterAll(async () => {
    gateway?.stop()
    await upstream?.close()
  })

  const call = (path: string, body: unknown) =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': TOKEN }, body: JSON.stringify(body) })

  it('serves generateContent and SSE streams, rotating keys', async () => {
    const res = await call('/v1beta/models/gemini-2.5-flash:generateContent', userText('on bun'))
    expect((await res.json()).candidates[0].content.parts[0].text).toBe('Echo: on bun')
    const stream = await call('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', userText('bun stream'))
    expect(stream.headers.get('content-type')).toBe('text/event-stream')
    expect((await stream.text()).split('\r\n\r\n').filter(Boolean)).toHaveLength(3)
    expect(new Set(upstream.requests.map((r) => r.key)).size).toBe(2)
  })

  it('retries on another key and refuses bad tokens', async () => {
    upstream.setBehaviour(KEYS[2]!, 'overloaded')
    for (let i = 0; i < 3; i++) expect((await call('/v1beta/models/gemini-2.5-flash:generateContent', userText('x'))).status).toBe(200)
    const denied = await fetch(`${url}/v1beta/models`, { headers: { 'x-goog-api-key': 'wrong' } })
    expect(denied.status).toBe(401)
  })
})
