import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { connectProxy, listen } from '../../test/e2e/fake-proxies.ts'
import { KEYS, TOKEN, startGateway, type Running } from '../../test/e2e/harness.ts'
import resources from './index.ts'

const OTHER_TOKEN = 'sk-gemgate-test-other-client'
const MB = 1024 * 1024

const startHeaders = (size: number, extra: Record<string, string> = {}) => ({
  'x-goog-api-key': TOKEN,
  'x-goog-upload-protocol': 'resumable',
  'x-goog-upload-command': 'start',
  'x-goog-upload-header-content-length': String(size),
  'x-goog-upload-header-content-type': 'application/octet-stream',
  'content-type': 'application/json',
  ...extra,
})

async function start(gw: Running, size: number, extra: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gw.url}/upload/v1beta/files`, { method: 'POST', headers: startHeaders(size, extra), body: JSON.stringify({ file: { display_name: 'raw' } }) })
}

function sendBytes(url: string, body: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'x-goog-api-key': TOKEN, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0', ...headers },
    body,
    duplex: 'half',
  } as RequestInit)
}

/** `total` bytes in 1 MB pieces; `pause(sent)` may hold the producer back between pieces. */
function producer(
  total: number,
  pause: (sent: number) => Promise<void> = async () => {},
): { stream: ReadableStream<Uint8Array>; finishedAt: () => number | undefined } {
  let sent = 0
  let finishedAt: number | undefined
  const piece = new Uint8Array(MB).fill(42)
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= total) {
        finishedAt = performance.now()
        return controller.close()
      }
      await pause(sent)
      sent += MB
      controller.enqueue(piece)
    },
  })
  return { stream, finishedAt: () => finishedAt }
}

describe('the resumable upload through the gateway', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({
      env: { ALLOWED_TOKENS: JSON.stringify([TOKEN, OTHER_TOKEN]), MAX_REQUEST_BODY_MB: '1' },
      config: { plugins: [resources()] },
    })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('answers an upload URL on the gateway that carries only a session id; the start reaches Google as the client sent it', async () => {
    const started = await start(gw, 4)
    expect(started.status).toBe(200)
    const url = started.headers.get('x-goog-upload-url')!
    expect(url).toMatch(new RegExp(`^${gw.url}/upload/v1beta/files\\?upload_id=[A-Za-z0-9_-]{32}$`))
    expect(started.headers.get('x-goog-upload-status')).toBe('active')
    expect(started.headers.get('x-goog-upload-chunk-granularity')).toBe('8388608')
    const google = gw.upstream.requests[0]!
    expect(google.headers).toMatchObject({
      'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': '4',
    })
    expect(google.body).toBe('{"file":{"display_name":"raw"}}')

    // Another token cannot use the session; the owner can ask how far it got, then finish it.
    const stolen = await fetch(url, {
      method: 'POST',
      headers: { 'x-goog-api-key': OTHER_TOKEN, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' },
      body: 'evil',
    })
    expect(stolen.status).toBe(404)
    expect(gw.upstream.requests).toHaveLength(1)
    const query = await fetch(url, { method: 'POST', headers: { 'x-goog-api-key': TOKEN, 'x-goog-upload-command': 'query' } })
    expect(query.headers.get('x-goog-upload-size-received')).toBe('0')
    const finished = await sendBytes(url, 'abcd')
    expect(finished.headers.get('x-goog-upload-status')).toBe('final')
    const { file } = await finished.json()
    expect(file).toMatchObject({ displayName: 'raw', sizeBytes: '4', state: 'ACTIVE' })
    expect(gw.keysUsed()).toEqual([google.key, google.key, google.key])
    // Done: the session is gone.
    expect((await sendBytes(url, 'more')).status).toBe(404)
  })

  it('builds the upload URL from X-Forwarded-Proto and X-Forwarded-Host when they are well-formed', async () => {
    const proxied = await start(gw, 1, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gemgate.example:8443' })
    expect(proxied.headers.get('x-goog-upload-url')).toMatch(/^https:\/\/gemgate\.example:8443\/upload\/v1beta\/files\?upload_id=/)
    const forged = await start(gw, 1, { 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'evil.example/path?' })
    expect(forged.headers.get('x-goog-upload-url')!.startsWith(`${gw.url}/upload/v1beta/files?upload_id=`)).toBe(true)
  })

  it('streams the bytes through: Google has the first megabytes while the client still holds the rest back', async () => {
    const url = (await start(gw, 40 * MB)).headers.get('x-goog-upload-url')!
    const traces = gw.upstream.resources.uploads
    const before = traces.length
    // After 8 MB the client sends nothing more until Google has 4 MB: a gateway that buffered the body would wait forever.
    const body = producer(40 * MB, async (sent) => {
      if (sent !== 8 * MB) return
      for (let waited = 0; !(traces.length > before && traces.at(-1)!.bytes >= 4 * MB); waited += 10) {
        if (waited > 5000) throw new Error('Google got nothing of the first 8 MB')
        await sleep(10)
      }
    })
    const finished = await sendBytes(url, body.stream)
    expect(finished.status).toBe(200)
    expect((await finished.json()).file.sizeBytes).toBe(String(40 * MB))
    const trace = traces.at(-1)!
    expect(trace.bytes).toBe(40 * MB)
    expect(trace.pieces).toBeGreaterThan(10)
    expect(trace.firstPieceAt!).toBeLessThan(body.finishedAt()!)
  })

  it('the start is a pipeline call: a failing key is retried on another, and the bytes go with the key that started', async () => {
    gw.upstream.setBehaviour(KEYS[0]!, 'overloaded')
    gw.upstream.setBehaviour(KEYS[1]!, 'overloaded')
    const file = await gw.genai().files.upload({ file: new Blob(['retried'], { type: 'text/plain' }) })
    expect(gw.upstream.resources.owner(file.name!)).toBe(KEYS[2])
    expect(gw.keysUsed().slice(-2)).toEqual([KEYS[2], KEYS[2]])
  })
})

describe('upload limits: FILES_MAX_UPLOAD_MB apart from MAX_REQUEST_BODY_MB, and FILES_UPLOAD_SESSION_HOURS', () => {
  let gw: Running
  beforeAll(async () => {
    // Sessions live 1.8 s here.
    gw = await startGateway({
      env: { MAX_REQUEST_BODY_MB: '1', FILES_MAX_UPLOAD_MB: '2', FILES_UPLOAD_SESSION_HOURS: '0.0005' },
      config: { plugins: [resources()] },
    })
  })
  afterAll(() => gw.close())
  beforeEach(() => gw.reset())

  it('a file over MAX_REQUEST_BODY_MB but within FILES_MAX_UPLOAD_MB goes through', async () => {
    const url = (await start(gw, 1.5 * MB)).headers.get('x-goog-upload-url')!
    const finished = await sendBytes(url, new Uint8Array(1.5 * MB).fill(1))
    expect(finished.status).toBe(200)
    expect((await finished.json()).file.sizeBytes).toBe(String(1.5 * MB))
  })

  it('past it: refused at the start from the declared size, before the bytes from their stated length, or cut as they come', async () => {
    const declared = await start(gw, 3 * MB)
    expect(declared.status).toBe(413)
    expect(((await declared.json()) as { error: { message: string } }).error.message).toContain('FILES_MAX_UPLOAD_MB')
    expect(gw.upstream.requests).toHaveLength(0)
    const url = (await start(gw, 0, { 'x-goog-upload-header-content-length': '' })).headers.get('x-goog-upload-url')!
    const stated = await sendBytes(url, new Uint8Array(1), { 'x-goog-upload-offset': String(2 * MB) })
    expect(stated.status).toBe(413)
    expect(gw.upstream.requests).toHaveLength(1)
    // Chunked: no length to check up front; the piece that passes the limit (the last one sent here) ends it.
    let sent = 0
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 2 * MB) return controller.close()
        sent += 64 * 1024
        controller.enqueue(new Uint8Array(64 * 1024))
      },
    })
    const cut = await sendBytes(url, chunked)
    expect(cut.status).toBe(413)
    expect(cut.headers.get('connection')).toBe('close')
  })

  it('a session that gets no bytes for FILES_UPLOAD_SESSION_HOURS is gone; each request keeps it alive', async () => {
    const url = (await start(gw, 8)).headers.get('x-goog-upload-url')!
    await sleep(700)
    const part = await sendBytes(url, 'abcd', { 'x-goog-upload-command': 'upload' })
    expect(part.headers.get('x-goog-upload-status')).toBe('active')
    await sleep(1400)
    expect((await sendBytes(url, 'efgh', { 'x-goog-upload-offset': '4' })).status).toBe(200)
    const late = (await start(gw, 4)).headers.get('x-goog-upload-url')!
    await sleep(2500)
    expect((await sendBytes(late, 'abcd')).status).toBe(404)
  })
})

describe('upload bytes take the way every upstream call takes', () => {
  it("through the key's proxy (PROXIES), with CUSTOM_HEADERS", async () => {
    const tunnels: string[] = []
    // It records each tunnel's target (with no credentials, nothing else).
    const proxy = connectProxy(tunnels)
    const port = await listen(proxy)
    const gw = await startGateway({
      env: { PROXIES: `["http://127.0.0.1:${port}"]`, CUSTOM_HEADERS: '{"X-Team": "blue"}' },
      config: { plugins: [resources()] },
    })
    try {
      await gw.genai().files.upload({ file: new Blob(['proxied'], { type: 'text/plain' }) })
      const bytes = gw.upstream.requests.at(-1)!
      expect(bytes.query.upload_id).toBeDefined()
      expect(bytes.headers['x-team']).toBe('blue')
      expect(tunnels.length).toBeGreaterThan(0)
      expect(new Set(tunnels)).toEqual(new Set([new URL(gw.upstream.origin).host]))
    } finally {
      await gw.close()
      proxy.close()
    }
  })
})
