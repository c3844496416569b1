// The fake generativelanguage.googleapis.com: a node:http server on loopback.

import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Plans, behaviourEntry } from './behaviours.ts'
import type { PlanEntry } from './behaviours.ts'
import { behaviourError, internal, missingKey, routeNotFound } from './errors.ts'
import { Exchange, JSON_TYPE } from './exchange.ts'
import { VERTEX_BASE_PATH, vertexBehaviourError, vertexRefusal, vertexRest } from './vertex.ts'
import { handleNative } from './gemini.ts'
import { answersImages, handleImages } from './images.ts'
import { attachLive } from './live.ts'
import { parseJson, unaryBody } from './json.ts'
import { handleResource, headerOf, resourcePath, ResourceStore, takeUploadBytes } from './resources.ts'
import { handleOpenAI, wantsStream } from './openai.ts'
import { sendError, sendScripted } from './respond.ts'
import { isObject } from './responses.ts'
import type { FakeUpstream, FakeUpstreamOptions, RecordedRequest } from './types.ts'

interface Settings {
  latencyMs: number
  streamChunks: number
  chunkIntervalMs: number
  record: boolean
  strict: boolean
  vertex: boolean
}

interface Target {
  path: string
  query: Record<string, string>
  /** Path after "/v1beta/" (undefined for anything outside /v1beta/). */
  rest: string | undefined
  openai: boolean
  model: string | undefined
  action: string | undefined
}

export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const settings: Settings = {
    latencyMs: options.latencyMs ?? 0,
    streamChunks: options.streamChunks ?? 3,
    chunkIntervalMs: options.chunkIntervalMs ?? 0,
    record: options.recordRequests ?? true,
    strict: options.strictRequests ?? true,
    vertex: options.vertex ?? false,
  }
  const plans = new Plans()
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const resources = new ResourceStore()

  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res, settings, plans, requests, resources).catch((error: unknown) => {
      console.error('fake-upstream: handler failed', error)
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'Content-Type': JSON_TYPE }).end(unaryBody(internal().body))
      else req.socket.destroy()
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('clientError', (_error, socket) => socket.destroy())
  const live = attachLive(server, plans)

  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const origin = `http://${urlHost}:${port}`
  resources.origin = origin

  let closing: Promise<void> | undefined
  return {
    url: options.vertex ? origin + VERTEX_BASE_PATH : `${origin}/v1beta`,
    origin,
    requests,
    setBehaviour: (key, behaviour, opts = {}) => plans.set(key, behaviourEntry(behaviour, opts), opts.times),
    script: (key, answer, opts = {}) => plans.set(key, { kind: 'script', answer }, opts.times),
    setDefaultBehaviour: (behaviour) => plans.setDefault(behaviour),
    resources,
    live,
    reset() {
      plans.reset()
      requests.length = 0
      live.reset()
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        server.closeAllConnections?.()
      })
      return closing
    },
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  settings: Settings,
  plans: Plans,
  requests: RecordedRequest[],
  resources: ResourceStore,
): Promise<void> {
  const ex = new Exchange(req, res, performance.now())
  req.on('error', () => {})
  res.on('error', () => {})
  if (await takeUploadBytes(ex, req, resources, settings.record ? requests : undefined)) return
  const body = await readBody(req)
  if (body === undefined) return

  const method = req.method ?? 'GET'
  const target = parseTarget(req.url ?? '/', settings.vertex)
  const parsed = method === 'POST' || method === 'PUT' || method === 'PATCH' ? parseJson(body) : ({ ok: true, value: {} } as const)
  const key = apiKey(req, target)
  if (target.openai && parsed.ok && isObject(parsed.value) && typeof parsed.value.model === 'string') {
    target.model = parsed.value.model
  }
  if (settings.record) requests.push(record(req, method, target, body, key))

  if (target.openai) ex.framing = wantsStream(parsed) ? 'openai-sse' : 'openai'
  else if (target.action === 'streamGenerateContent') ex.framing = target.query.alt === 'sse' ? 'sse' : 'json-array'

  const plan: PlanEntry | undefined = key === undefined ? undefined : plans.next(key)
  if (!(await ex.wait(settings.latencyMs))) return
  if (key === undefined || plan === undefined) return sendError(ex, missingKey())
  if (plan.kind === 'script') return sendScripted(ex, plan.answer, settings.chunkIntervalMs)

  switch (plan.behaviour) {
    case 'slow':
      if (!(await ex.wait(plan.slowMs ?? 5000))) return
      break
    case 'reset-before-headers':
      return ex.reset()
    case 'reset-mid-stream':
      ex.cut = true
      break
    default: {
      const model = target.model?.replace(/^models\//, '')
      const error = (settings.vertex ? vertexBehaviourError : behaviourError)(plan.behaviour, { key, model, retryDelaySeconds: plan.retryDelaySeconds })
      if (error !== undefined) return sendError(ex, error)
    }
  }

  const common = {
    ex,
    method,
    body,
    parsed,
    behaviour: plan.behaviour,
    strict: settings.strict,
    streamChunks: settings.streamChunks,
    chunkIntervalMs: settings.chunkIntervalMs,
  }
  const resource = resourcePath(target.path)
  if (
    resource !== undefined &&
    (await handleResource({ ex, store: resources, method, path: resource, query: target.query, key, rawBody: body, header: headerOf(req) }))
  )
    return
  if (target.rest === undefined) return sendError(ex, routeNotFound())
  const refused = settings.vertex ? vertexRefusal(target.action) : undefined
  if (refused !== undefined) return sendError(ex, refused)
  if (target.openai) return handleOpenAI({ ...common, route: target.rest.slice('openai/'.length) })
  if (answersImages(target.model, target.action)) return handleImages({ ...common, model: target.model!, action: target.action! })
  const foreign = parsed.ok && isObject(parsed.value) ? resources.refuseForeign(key, parsed.value) : undefined
  if (foreign !== undefined) return sendError(ex, foreign)
  return handleNative({
    ...common,
    rest: target.rest,
    query: target.query,
    model: target.model,
    action: target.action,
    readable: (id) => resources.readable(key, id),
  })
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()))
    req.on('error', () => resolve(undefined))
    req.on('close', () => {
      if (!req.complete) resolve(undefined)
    })
  })
}

function parseTarget(url: string, vertex: boolean): Target {
  const q = url.indexOf('?')
  const rawPath = q === -1 ? url : url.slice(0, q)
  let path = rawPath
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    // keep the raw path
  }
  const query: Record<string, string> = q === -1 ? {} : Object.fromEntries(new URLSearchParams(url.slice(q + 1)))
  const rest = vertex ? vertexRest(path) : path.startsWith('/v1beta/') ? path.slice('/v1beta/'.length) : undefined
  const target: Target = { path, query, rest, openai: false, model: undefined, action: undefined }
  if (rest === undefined) return target
  if (rest.startsWith('openai/')) {
    target.openai = true
    target.action = rest.slice('openai/'.length)
  } else if (rest.startsWith('models/')) {
    const spec = rest.slice('models/'.length)
    const colon = spec.lastIndexOf(':')
    target.model = colon === -1 ? spec : spec.slice(0, colon)
    if (colon !== -1) target.action = spec.slice(colon + 1)
  }
  return target
}

function apiKey(req: IncomingMessage, target: Target): string | undefined {
  if (target.openai) {
    const auth = req.headers.authorization
    if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim() || undefined
  }
  const header = req.headers['x-goog-api-key']
  const fromHeader = Array.isArray(header) ? header[0] : header
  return fromHeader || target.query.key || undefined
}

function record(req: IncomingMessage, method: string, target: Target, body: string, key: string | undefined): RecordedRequest {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  const recorded: RecordedRequest = { method, path: target.path, query: target.query, headers, body, key }
  if (target.model !== undefined) recorded.model = target.model
  if (target.action !== undefined) recorded.action = target.action
  return recorded
}
