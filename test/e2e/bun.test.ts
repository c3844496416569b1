import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from '../fake-upstream/index.ts'
import { KEYS, TOKEN, userText } from './harness.ts'

const BUN = join(process.cwd(), 'node_modules/.bin/bun')

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** `bun serve.ts`: the same gateway on the Bun runtime (Bun.serve, Bun's fetch, bun:sqlite). */
describe('on Bun', () => {
  let upstream: FakeUpstream
  let child: ChildProcess
  let url = ''
  let output = ''

  beforeAll(async () => {
    upstream = await startFakeUpstream()
    const port = await freePort()
    url = `http://127.0.0.1:${port}`
    child = spawn(BUN, ['--no-env-file', 'serve.ts'], {
      env: {
        PATH: process.env.PATH,
        API_KEYS: JSON.stringify(KEYS),
        ALLOWED_TOKENS: TOKEN,
        BASE_URL: upstream.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'gemgate-bun-')),
        CHECK_INTERVAL_HOURS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (d) => (output += d))
    child.stderr!.on('data', (d) => (output += d))
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`${url}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`bun did not start:\n${output}`)
  }, 20_000)

  afterAll(async () => {
    child?.kill('SIGTERM')
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
