import { GoogleGenAI, Modality, Type, type LiveServerMessage, type Session } from '@google/genai'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startBunGateway, type BunGateway } from '../../test/e2e/bun-gateway.ts'
import { KEYS, TOKEN, startGateway, type Running } from '../../test/e2e/harness.ts'
import { startFakeUpstream, type FakeUpstream } from '../../test/fake-upstream/index.ts'
import live from './index.ts'

const MODEL = 'gemini-live-2.5-flash-preview'
const PATH = '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent'
const WEATHER = {
  functionDeclarations: [
    { name: 'get_weather', description: 'The weather in a city', parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } } } },
  ],
}

/** The official SDK's Live session through the gateway, with what it received and how it closed. */
async function connectSdk(baseUrl: string, token = TOKEN) {
  const messages: LiveServerMessage[] = []
  let closed: { code: number; reason: string } | undefined
  let onClosed: (closed: { code: number; reason: string }) => void = () => {}
  const closedWith = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve))
  const waiters: (() => void)[] = []
  const ai = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl } })
  const session: Session = await ai.live.connect({
    model: MODEL,
    config: { responseModalities: [Modality.TEXT], tools: [WEATHER] },
    callbacks: {
      onmessage: (message) => {
        messages.push(message)
        for (const wake of waiters.splice(0)) wake()
      },
      onclose: (event) => {
        closed = { code: event.code, reason: event.reason }
        onClosed(closed)
        for (const wake of waiters.splice(0)) wake()
      },
    },
  })
  /** Waits until some message (from `from` on) passes `test`. */
  const until = async (test: (message: LiveServerMessage) => boolean, from = 0): Promise<LiveServerMessage> => {
    for (;;) {
      const found = messages.slice(from).find(test)
      if (found) return found
      if (closed) throw new Error(`closed ${closed.code} ${closed.reason} before the awaited message`)
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  return { session, messages, until, closedWith: () => closedWith }
}

/** A plain WebSocket client (the `ws` package), for what the SDK does not let a test do. */
function rawClient(url: string) {
  const socket = new WebSocket(url)
  const frames: { binary: boolean; text: string }[] = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  const refused = new Promise<{ status: number; body: string }>((resolve) =>
    socket.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }),
  )
  socket.on('error', () => {})
  socket.on('message', (data: Buffer, binary) => frames.push({ binary, text: data.toString() }))
  const opened = new Promise<void>((resolve) => socket.on('open', () => resolve()))
  const nextFrame = async (count: number) => {
    while (frames.length < count) await new Promise((resolve) => socket.once('message', resolve))
    return frames[count - 1]!
  }
  return { socket, frames, opened, closed, refused, nextFrame }
}

const wsUrl = (running: Running, path = PATH, token = TOKEN) => `${running.url.replace(/^http/, 'ws')}${path}?key=${token}`
const setup = (model = `models/${MODEL}`) => JSON.stringify({ setup: { model, generationConfig: { responseModalities: ['TEXT'] } } })
const textOf = (message: LiveServerMessage) => message.serverContent?.modelTurn?.parts?.map((part) => part.text).join('') ?? ''

async function logRows(running: Running): Promise<Record<string, any>[]> {
  await running.gateway.logs.flush()
  const { rows } = await running.gateway.database.db.sql`SELECT * FROM request_logs WHERE dialect = 'live' ORDER BY id`
  return rows as Record<string, any>[]
}

describe('the Live API through the gateway (Node)', () => {
  let running: Running
  beforeAll(async () => {
    running = await startGateway({ config: { plugins: [live()] } })
  })
  afterAll(() => running.close())
  afterEach(() => running.reset())

  it("serves the SDK's live.connect at the gateway's root: a text turn, a tool call and its response, the close, the session's log row", async () => {
    const upstreamSession = running.upstream.live.nextSession()
    const client = await connectSdk(running.url)
    const google = await upstreamSession

    // What Google got: the client's setup as the SDK wrote it, with one of the pool's keys in the header, not the client's token.
    expect(KEYS).toContain(google.key)
    expect(google.headers['x-goog-api-key']).toBe(google.key)
    expect(JSON.stringify(google.headers)).not.toContain(TOKEN)
    expect(google.path).toBe(PATH)
    expect(JSON.parse(google.received[0]!.text).setup.model).toBe(`models/${MODEL}`)
    expect(client.messages.filter((message) => message.setupComplete)).toHaveLength(1)

    client.session.sendClientContent({ turns: 'Hello there', turnComplete: true })
    await client.until((message) => message.serverContent?.turnComplete === true)
    expect(client.messages.map(textOf).join('')).toBe('Echo: Hello there')
    expect(client.messages.find((message) => message.usageMetadata)?.usageMetadata).toMatchObject({ promptTokenCount: 2, responseTokenCount: 3 })

    const mark = client.messages.length
    client.session.sendClientContent({ turns: 'What does get_weather say for Paris?', turnComplete: true })
    const call = (await client.until((message) => message.toolCall !== undefined, mark)).toolCall!.functionCalls![0]!
    expect(call).toMatchObject({ id: 'call-get_weather', name: 'get_weather' })
    client.session.sendToolResponse({ functionResponses: [{ id: call.id, name: call.name, response: { output: 'sunny, 21°C' } }] })
    await client.until((message) => textOf(message).startsWith('Tool said'), mark)
    expect(client.messages.slice(mark).map(textOf).join('')).toBe('Tool said: {"output":"sunny, 21°C"}')
    expect(JSON.parse(google.received.at(-1)!.text).toolResponse.functionResponses[0]).toMatchObject({
      id: 'call-get_weather',
      response: { output: 'sunny, 21°C' },
    })

    client.session.close()
    expect(await client.closedWith()).toMatchObject({ code: 1005 })
    expect(await google.ended).toEqual({ code: 1005, reason: '' })

    const [row] = await logRows(running)
    expect(row).toMatchObject({
      operation: 'bidiGenerateContent',
      model: MODEL,
      status: 101,
      failure_class: 'ok',
      key_id: running.gateway.idOf(google.key!),
      attempt: 1,
    })
    // Google's usage per turn, summed: (2 + 3) for the first turn, then the tool turn's prompt (history + response).
    expect(row!.prompt_tokens).toBeGreaterThan(2)
    expect(Number(row!.total_tokens)).toBe(Number(row!.prompt_tokens) + Number(row!.completion_tokens))
    expect(Number(row!.latency_ms)).toBeGreaterThan(0)
    expect(row!.token_id).toBe(running.gateway.idOf(TOKEN))
  })

  it('keeps concurrent sessions apart', async () => {
    const clients = await Promise.all(['one', 'two', 'three'].map(() => connectSdk(running.url)))
    clients.forEach((client, index) => client.session.sendClientContent({ turns: `session ${index}`, turnComplete: true }))
    await Promise.all(clients.map((client) => client.until((message) => message.serverContent?.turnComplete === true)))
    expect(clients.map((client) => client.messages.map(textOf).join(''))).toEqual(['Echo: session 0', 'Echo: session 1', 'Echo: session 2'])
    for (const client of clients) client.session.close()
    await Promise.all(clients.map((client) => client.closedWith()))
  })

  it('serves it under /gemini too', async () => {
    const client = await connectSdk(`${running.url}/gemini`)
    client.session.sendClientContent({ turns: 'under gemini', turnComplete: true })
    await client.until((message) => message.serverContent?.turnComplete === true)
    expect(client.messages.map(textOf).join('')).toBe('Echo: under gemini')
    client.session.close()
    await client.closedWith()
  })

  it('refuses the upgrade without a valid token, in Gemini error shape, and opens nothing upstream', async () => {
    for (const token of ['wrong-token', '']) {
      const client = rawClient(wsUrl(running, PATH, token))
      const refused = await client.refused
      expect(refused.status).toBe(401)
      expect(JSON.parse(refused.body).error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' })
    }
    const other = rawClient(wsUrl(running, '/ws/google.ai.generativelanguage.v1beta.GenerativeService.StreamGenerateContent'))
    expect((await other.refused).status).toBe(404)
    const plain = await fetch(`${running.url}${PATH}?key=${TOKEN}`)
    expect(plain.status).toBe(426)
    expect(running.upstream.live.sessions).toHaveLength(0)
    expect(running.upstream.live.refused).toHaveLength(0)
  })

  it('relays text and binary frames as they are, both ways', async () => {
    const upstreamSession = running.upstream.live.nextSession()
    const client = rawClient(wsUrl(running))
    await client.opened
    client.socket.send(setup())
    const google = await upstreamSession
    expect(await client.nextFrame(1)).toEqual({ binary: true, text: '{"setupComplete":{}}' })
    const audio = JSON.stringify({ realtimeInput: { audio: { data: 'AAAA', mimeType: 'audio/pcm;rate=16000' } } })
    client.socket.send(Buffer.from(audio))
    client.socket.send(JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text: 'as text' }] }], turnComplete: true } }))
    expect(JSON.parse((await client.nextFrame(2)).text).serverContent.modelTurn.parts[0].text).toBe('Echo: as text')
    expect(google.received.slice(0, 3).map((frame) => frame.binary)).toEqual([false, true, false])
    expect(google.received[1]!.text).toBe(audio)
    google.send({ serverContent: { outputTranscription: { text: 'hi' } } })
    expect(await client.nextFrame(4)).toEqual({ binary: true, text: '{"serverContent":{"outputTranscription":{"text":"hi"}}}' })
    client.socket.close(4000, 'done here')
    expect(await google.ended).toEqual({ code: 4000, reason: 'done here' })
  })

  it('a client that drops mid-session closes the upstream session', async () => {
    const upstreamSession = running.upstream.live.nextSession()
    const client = rawClient(wsUrl(running))
    await client.opened
    client.socket.send(setup())
    const google = await upstreamSession
    await client.nextFrame(1)
    client.socket.terminate()
    const ended = await google.ended
    expect(ended.code).toBe(1005) // 1006 cannot be sent on: the gateway closes Google's side without a code
    const rows = await logRows(running)
    expect(rows.at(-1)).toMatchObject({ failure_class: 'ok', status: 101 })
  })

  it('Google closing mid-session closes the client with its code and reason; a cut connection as 1011', async () => {
    const first = running.upstream.live.nextSession()
    const client = await connectSdk(running.url)
    const google = await first
    google.close(1011, 'Internal error occurred.')
    expect(await client.closedWith()).toEqual({ code: 1011, reason: 'Internal error occurred.' })
    const rows = await logRows(running)
    expect(rows.at(-1)).toMatchObject({ failure_class: 'upstream-error' })

    const second = running.upstream.live.nextSession()
    const dropped = await connectSdk(running.url)
    ;(await second).drop()
    expect(await dropped.closedWith()).toEqual({ code: 1011, reason: "Gemini's connection broke off." })
  })

  it('a setup Google refuses for its own sake reaches the client as Google closed it, after one fixed request on the key', async () => {
    const client = rawClient(wsUrl(running))
    await client.opened
    client.socket.send(setup(MODEL)) // the fake, like Google, wants `models/...`
    expect(await client.closed).toEqual({ code: 1007, reason: 'Request contains an invalid argument.' })
    expect(running.upstream.live.sessions).toHaveLength(1) // not retried on another key: every key would get the same
    const probes = running.upstream.requests.filter((request) => request.action === 'generateContent')
    expect(probes).toHaveLength(1) // the key answered the fixed request: the refusal was the setup's
    const key = running.upstream.live.sessions[0]!.key!
    expect(running.gateway.pool.health(running.gateway.pool.get(running.gateway.idOf(key))!).disabled).toBeUndefined()
    const rows = await logRows(running)
    expect(rows.at(-1)).toMatchObject({ failure_class: 'client-error', status: 101 })
  })

  it('a first message that is no setup ends the session', async () => {
    const client = rawClient(wsUrl(running))
    await client.opened
    client.socket.send('{"clientContent":{}}')
    expect(await client.closed).toEqual({ code: 1007, reason: 'The first message must be a setup that names a model.' })
    expect(running.upstream.live.sessions).toHaveLength(0)
  })
})

describe('outbound: PROXIES and CUSTOM_HEADERS', () => {
  let running: Running
  let proxy: Server
  const tunnels: string[] = []
  beforeAll(async () => {
    // An HTTP proxy that only tunnels (CONNECT), recording what it was asked for.
    proxy = createServer((_req, res) => res.writeHead(405).end())
    proxy.on('connect', (req, client: net.Socket, head: Buffer) => {
      tunnels.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim())
      const [host, port] = req.url!.split(':')
      const target = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        target.write(head)
        target.pipe(client).pipe(target)
      })
      target.on('error', () => client.destroy())
      client.on('error', () => target.destroy())
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const proxyUrl = `http://user:secret@127.0.0.1:${(proxy.address() as AddressInfo).port}`
    running = await startGateway({
      config: { plugins: [live()] },
      env: { PROXIES: JSON.stringify([proxyUrl]), CUSTOM_HEADERS: JSON.stringify({ 'x-relay-tag': 'gemgate' }) },
    })
  })
  afterAll(async () => {
    await running.close()
    proxy.closeAllConnections()
    await new Promise((resolve) => proxy.close(resolve))
  })

  it("the session goes through the key's proxy (a CONNECT tunnel, with its credentials) and carries CUSTOM_HEADERS", async () => {
    const upstreamSession = running.upstream.live.nextSession()
    const client = await connectSdk(running.url)
    const google = await upstreamSession
    client.session.sendClientContent({ turns: 'via proxy', turnComplete: true })
    await client.until((message) => message.serverContent?.turnComplete === true)
    expect(client.messages.map(textOf).join('')).toBe('Echo: via proxy')
    expect(tunnels).toEqual([`${new URL(running.upstream.origin).host} Basic ${Buffer.from('user:secret').toString('base64')}`])
    expect(google.headers['x-relay-tag']).toBe('gemgate')
    client.session.close()
    await client.closedWith()
  })
})

describe('keys refused at setup', () => {
  let running: Running
  beforeAll(async () => {
    // A fresh pool starts with the first key.
    running = await startGateway({ config: { plugins: [live()] }, env: { MAX_RETRIES: '3' } })
  })
  afterAll(() => running.close())

  it('a key Google refuses after the setup is judged (disabled) and the next key serves the session; the client never sees it', async () => {
    running.upstream.setBehaviour(KEYS[0]!, 'invalid-key') // the Live endpoint closes 1007 "API key not valid", the REST one answers API_KEY_INVALID
    running.upstream.setBehaviour(KEYS[1]!, 'rate-minute') // refused at the upgrade: HTTP 429 with RetryInfo
    const client = await connectSdk(running.url)
    client.session.sendClientContent({ turns: 'still here', turnComplete: true })
    await client.until((message) => message.serverContent?.turnComplete === true)
    expect(client.messages.map(textOf).join('')).toBe('Echo: still here')
    expect(client.messages.filter((message) => message.setupComplete)).toHaveLength(1)

    const { live: fake, requests } = running.upstream
    expect(fake.sessions.map((session) => session.key)).toEqual([KEYS[0], KEYS[2]])
    expect(fake.sessions[0]!.closed).toEqual({ code: 1007, reason: 'API key not valid. Please pass a valid API key.' })
    expect(fake.refused).toEqual([{ key: KEYS[1], status: 429 }])
    // The close said nothing structured: a fixed request on the key settled it, as for any refusal in words.
    expect(requests.filter((request) => request.action === 'generateContent').map((request) => request.key)).toEqual([KEYS[0]])

    const pool = running.gateway.pool
    const health = (secret: string) => pool.health(pool.get(running.gateway.idOf(secret))!)
    expect(health(KEYS[0]!).disabled?.reason).toContain('invalid')
    // (for the model Google's quota names: a refused upgrade comes before the setup has named one)
    expect(Object.values(health(KEYS[1]!).cooldowns).map((cooldown) => cooldown.reason)).toEqual(['rate-limited'])
    expect(health(KEYS[2]!).disabled).toBeUndefined()

    client.session.close()
    await client.closedWith()
    const rows = await logRows(running)
    expect(rows.map((row) => [row.attempt, row.status, row.failure_class])).toEqual([
      [1, 101, 'invalid-key'],
      [2, 429, 'rate-limited'],
      [3, 101, 'ok'],
    ])
    expect(new Set(rows.map((row) => row.request_id)).size).toBe(1)
  })

  it('with no key left the client is told to try later', async () => {
    // KEYS[0] is disabled and KEYS[1] cooling down from the test before; KEYS[2] is now refused at setup too, in words
    // that name the key.
    running.upstream.setBehaviour(KEYS[2]!, 'suspended')
    const client = rawClient(wsUrl(running))
    await client.opened
    client.socket.send(setup())
    const closed = await client.closed
    expect(closed.code).toBe(1011)
    expect(closed.reason).toBe("The gateway's API keys were refused by Google and none is left to try; see the gateway's error log.")
    const again = rawClient(wsUrl(running))
    await again.opened
    again.socket.send(setup())
    expect((await again.closed).code).toBe(1013)
    await running.gateway.logs.flush()
    // The session's own row (a key check that confirmed the refusal keeps Google's body in a row of its own).
    const { rows = [] } = await running.gateway.database.db
      .sql`SELECT error_body FROM error_logs WHERE error_body LIKE 'closed before setupComplete%suspended%'`
    const label = running.gateway.pool.get(running.gateway.idOf(KEYS[2]!))!.label
    expect(rows.map((row) => row.error_body)).toEqual([`closed before setupComplete: 1008 Permission denied: Consumer 'api_key:${label}' has been suspended.`])
  })
})

describe("a client token's limits and FILTERED_MODELS hold for Live sessions too", () => {
  const LIMITED = 'sk-live-limited-client-token-0001'
  let running: Running
  beforeAll(async () => {
    running = await startGateway({
      env: { FILTERED_MODELS: '["gemini-hidden"]' },
      config: { plugins: [live()], clientTokens: [{ token: LIMITED, name: 'live', models: [MODEL], rpm: 1 }] },
    })
  })
  afterAll(() => running.close())

  /** Opens a session with `token`, sends the setup for `model`, and returns how the gateway closed it (or that it opened). */
  const session = async (token: string, model: string) => {
    const upstreamSession = running.upstream.live.nextSession()
    const client = rawClient(wsUrl(running, PATH, token))
    await client.opened
    client.socket.send(setup(`models/${model}`))
    const outcome = await Promise.race([client.closed, upstreamSession.then(() => 'opened' as const)])
    client.socket.close()
    return outcome
  }

  it("a model filtered out or not allowed to the token closes with 1008; past the token's rate 1013; nothing opens upstream", async () => {
    expect(await session(TOKEN, 'gemini-hidden')).toMatchObject({ code: 1008, reason: expect.stringContaining('not available') })
    expect(await session(LIMITED, 'gemini-2.5-pro')).toMatchObject({ code: 1008, reason: expect.stringContaining('may not use the model') })
    const before = running.upstream.live.sessions.length
    expect(await session(LIMITED, MODEL)).toBe('opened')
    expect(await session(LIMITED, MODEL)).toMatchObject({ code: 1013 })
    expect(running.upstream.live.sessions.length).toBe(before + 1)
  })
})

describe('time limits', () => {
  let running: Running
  beforeAll(async () => {
    running = await startGateway({ config: { plugins: [live({ idleTimeoutSeconds: 1, maxSessionSeconds: 2 })] } })
  })
  afterAll(() => running.close())

  it('closes an idle session on both sides', async () => {
    const upstreamSession = running.upstream.live.nextSession()
    const client = await connectSdk(running.url)
    const google = await upstreamSession
    const started = Date.now()
    expect(await client.closedWith()).toEqual({ code: 1008, reason: 'The session was idle for 1s.' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect((await google.ended).code).toBe(1000)
  })

  it('closes a busy session at its total limit', async () => {
    const client = await connectSdk(running.url)
    const started = Date.now()
    const ping = setInterval(() => client.session.sendClientContent({ turns: 'ping', turnComplete: true }), 300)
    const closed = await client.closedWith().finally(() => clearInterval(ping))
    expect(closed).toEqual({ code: 1008, reason: 'The session reached its time limit of 2s.' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1800)
  })
})

/** `bun serve.ts` with this plugin listed: Bun.serve upgrades through the same crossws plugin, Bun's `ws` goes upstream. */
describe('on Bun', () => {
  let upstream: FakeUpstream
  let gateway: BunGateway | undefined
  let url = ''

  beforeAll(async () => {
    upstream = await startFakeUpstream()
    const dir = mkdtempSync(join(tmpdir(), 'gemgate-live-bun-'))
    writeFileSync(
      join(dir, 'gateway.config.ts'),
      `import live from ${JSON.stringify(join(process.cwd(), 'plugins/live/index.ts'))}\nexport default { plugins: [live()] }\n`,
    )
    gateway = await startBunGateway(upstream.url, { cwd: dir })
    url = gateway.url
  }, 20_000)

  afterAll(async () => {
    gateway?.stop()
    await upstream?.close()
  })

  it("serves the SDK's live.connect, skips a key refused at setup, and closes both ways", async () => {
    upstream.setBehaviour(KEYS[0]!, 'rate-minute')
    const upstreamSession = upstream.live.nextSession()
    const client = await connectSdk(url)
    const google = await upstreamSession
    expect(upstream.live.refused).toEqual([{ key: KEYS[0], status: 429 }])
    expect(google.key).toBe(KEYS[1])
    client.session.sendClientContent({ turns: 'on bun', turnComplete: true })
    await client.until((message) => message.serverContent?.turnComplete === true)
    expect(client.messages.map(textOf).join('')).toBe('Echo: on bun')
    google.close(1011, 'Internal error occurred.')
    expect(await client.closedWith()).toEqual({ code: 1011, reason: 'Internal error occurred.' })

    const next = upstream.live.nextSession()
    const raw = rawClient(`${url.replace(/^http/, 'ws')}//ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=${TOKEN}`)
    await raw.opened
    raw.socket.send(setup())
    await raw.nextFrame(1)
    raw.socket.send(Buffer.from('{"realtimeInput":{"audio":{"data":"AAAA","mimeType":"audio/pcm"}}}'))
    raw.socket.close(4001, 'bye from the client')
    const seen = await next
    expect(await seen.ended).toEqual({ code: 4001, reason: 'bye from the client' })
    expect(seen.received.map((frame) => frame.binary)).toEqual([false, true])
    expect((await rawClient(`${url.replace(/^http/, 'ws')}${PATH}?key=nope`).refused).status).toBe(401)
  })
})
