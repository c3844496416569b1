// The Live API (BidiGenerateContent over a WebSocket) of the fake: /ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent
// on the fake's own port, so a gateway whose BASE_URL is the fake finds it where Google's is.
//
// It speaks as Google does: every message is one JSON object in a binary frame; the client's setup is answered with
// `setupComplete`; a text turn with the model's answer, `turnComplete` and `usageMetadata` (per turn, the prompt
// counting the history); a turn that names a declared function with a `toolCall`, answered once the `toolResponse`
// comes. The key's behaviour (setBehaviour / script, one use per session) decides how a refused key shows, as far as
// it has been observed: a quota as HTTP 429 on the upgrade; a key Google refuses closes the socket right after the
// setup, 1007 for "API key not valid" (and other INVALID_ARGUMENT), 1008 for a forbidden key (leaked, suspended), 1011
// for Google's own failures; a scripted answer is sent as the upgrade's HTTP refusal.

import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Plans } from './behaviours.ts'
import { behaviourError, type FakeError } from './errors.ts'
import { prettyJson } from './json.ts'

const PATH = /^\/ws\/google\.ai\.generativelanguage\.(v1alpha|v1beta|v1)\.GenerativeService\.BidiGenerateContent$/

export interface LiveFrame {
  binary: boolean
  /** The frame as text (JSON for every well-formed message). */
  text: string
}

/** One WebSocket session the fake accepted, as it saw it, with Google's side of the controls. */
export interface FakeLiveSession {
  key: string | undefined
  path: string
  /** Lower-cased handshake headers. */
  headers: Record<string, string>
  /** Every frame the client sent, setup first. */
  received: LiveFrame[]
  /** How the session ended, from the fake's side; undefined while it is open. */
  closed?: { code: number; reason: string }
  /** Resolves when the session has ended. */
  ended: Promise<{ code: number; reason: string }>
  /** Closes the session from Google's side, with a close frame. */
  close(code: number, reason: string): void
  /** Cuts the connection without a close frame. */
  drop(): void
  /** Sends one message (JSON in a binary frame, as Google does). */
  send(message: unknown): void
}

export interface FakeLive {
  /** Every session whose upgrade the fake accepted, in order. */
  sessions: FakeLiveSession[]
  /** Upgrades the fake refused (key and status), in order. */
  refused: { key: string | undefined; status: number }[]
  /** Resolves with the next session the fake accepts. */
  nextSession(): Promise<FakeLiveSession>
  reset(): void
}

/** Serves the Live endpoint on `server` (the fake's node:http server); keys' behaviours come from `plans`. */
export function attachLive(server: Server, plans: Plans): FakeLive {
  const wss = new WebSocketServer({ noServer: true })
  const sessions: FakeLiveSession[] = []
  const refused: FakeLive['refused'] = []
  let waiting: ((session: FakeLiveSession) => void)[] = []

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {})
    const url = new URL(req.url ?? '/', 'http://fake')
    const header = req.headers['x-goog-api-key']
    const key = (Array.isArray(header) ? header[0] : header) || url.searchParams.get('key') || undefined
    if (!PATH.test(url.pathname)) return refuse(socket, 404, { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } })
    const plan = key === undefined ? undefined : plans.next(key)
    if (key === undefined || plan === undefined) return refuseWith(socket, key, missingKeyError())
    if (plan.kind === 'script') return refuseWith(socket, key, { status: plan.answer.status ?? 500, body: plan.answer.json as FakeError['body'] })
    if (plan.behaviour === 'reset-before-headers') return void socket.destroy()
    const error = behaviourError(plan.behaviour, { key, model: undefined, retryDelaySeconds: plan.retryDelaySeconds })
    if (error?.status === 429) return refuseWith(socket, key, error)
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = track(ws, req, key, url.pathname, error)
      sessions.push(session)
      for (const resolve of waiting.splice(0)) resolve(session)
    })
  })

  function refuseWith(socket: Duplex, key: string | undefined, error: FakeError): void {
    refused.push({ key, status: error.status })
    refuse(socket, error.status, error.body)
  }

  return {
    sessions,
    refused,
    nextSession: () => new Promise((resolve) => waiting.push(resolve)),
    reset() {
      sessions.length = 0
      refused.length = 0
      waiting = []
    },
  }
}

function refuse(socket: Duplex, status: number, body: unknown): void {
  const text = prettyJson(body)
  socket.end(
    `HTTP/1.1 ${status} Refused\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  )
}

const missingKeyError = (): FakeError => ({
  status: 403,
  body: {
    error: {
      code: 403,
      message:
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      status: 'PERMISSION_DENIED',
    },
  },
})

/** The close Google sends after the setup of a key it refuses. */
function closeFor(error: FakeError): { code: number; reason: string } {
  const code = error.status >= 500 ? 1011 : error.status === 403 ? 1008 : 1007
  return { code, reason: error.body.error.message.slice(0, 120) }
}

function track(ws: WebSocket, req: IncomingMessage, key: string, path: string, refusal: FakeError | undefined): FakeLiveSession {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  let endedResolve: (closed: { code: number; reason: string }) => void = () => {}
  const send = (message: unknown) => ws.send(Buffer.from(JSON.stringify(message)))
  const session: FakeLiveSession = {
    key,
    path,
    headers,
    received: [],
    ended: new Promise((resolve) => (endedResolve = resolve)),
    close: (code, reason) => ws.close(code, reason),
    drop: () => ws.terminate(),
    send,
  }
  const conversation = new Conversation(send)
  ws.on('error', () => {})
  ws.on('close', (code: number, reason: Buffer) => {
    session.closed = { code, reason: reason.toString() }
    endedResolve(session.closed)
  })
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const text = data.toString('utf8')
    session.received.push({ binary: isBinary, text })
    let message: Record<string, any>
    try {
      message = JSON.parse(text)
    } catch {
      return ws.close(1007, 'Invalid JSON payload received.')
    }
    if (session.received.length === 1) {
      if (refusal) {
        const { code, reason } = closeFor(refusal)
        return ws.close(code, reason)
      }
      if (typeof message.setup?.model !== 'string' || !message.setup.model.startsWith('models/')) return ws.close(1007, 'Request contains an invalid argument.')
      conversation.setup(message.setup)
      return send({ setupComplete: {} })
    }
    conversation.receive(message)
  })
  return session
}

/** The model's side of a session: echoes text turns, calls a declared function the turn names, reports usage per turn. */
class Conversation {
  #functions: string[] = []
  #history = 0
  constructor(private readonly send: (message: unknown) => void) {}

  setup(setup: { tools?: { functionDeclarations?: { name?: string }[] }[] }): void {
    this.#functions = (setup.tools ?? []).flatMap((tool) => (tool.functionDeclarations ?? []).map((fn) => fn.name ?? '')).filter(Boolean)
  }

  receive(message: Record<string, any>): void {
    if (message.clientContent) {
      const text = (message.clientContent.turns ?? [])
        .flatMap((turn: any) => turn.parts ?? [])
        .map((part: any) => part.text ?? '')
        .join(' ')
      const called = this.#functions.find((name) => text.includes(name))
      if (called) return this.send({ toolCall: { functionCalls: [{ id: `call-${called}`, name: called, args: { asked: text } }] } })
      return this.answer(text, `Echo: ${text}`)
    }
    if (message.toolResponse) {
      const responses = message.toolResponse.functionResponses ?? []
      return this.answer(JSON.stringify(responses), `Tool said: ${responses.map((r: any) => JSON.stringify(r.response)).join(', ')}`)
    }
  }

  answer(prompt: string, reply: string): void {
    const promptTokens = this.#history + words(prompt)
    const responseTokens = words(reply)
    this.#history = promptTokens + responseTokens
    this.send({ serverContent: { modelTurn: { parts: [{ text: reply }] } } })
    this.send({
      serverContent: { generationComplete: true, turnComplete: true },
      usageMetadata: { promptTokenCount: promptTokens, responseTokenCount: responseTokens, totalTokenCount: promptTokens + responseTokens },
    })
  }
}

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length
