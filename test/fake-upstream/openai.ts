// Google's OpenAI-compatible layer under /v1beta/openai/ (§6) — a minimal stub, one handler per route.
// Extend by adding entries to ROUTES. Errors are the Google envelope inside a JSON array (§6.2).

import { badRequest, invalidArgument, invalidJson, modelNotFound, routeNotFound } from './errors.ts'
import type { Exchange } from './exchange.ts'
import { MODELS, findModel } from './models.ts'
import type { Json } from './responses.ts'
import { countWords, embedValues, isObject, newResponseId } from './responses.ts'
import { sendError, sendJson, sendStream } from './respond.ts'
import type { Behaviour } from './types.ts'
import { checkOpenAIFields } from './validate.ts'

export interface OpenAICall {
  ex: Exchange
  method: string
  /** Path after "/v1beta/openai/", e.g. "chat/completions". */
  route: string
  body: string
  parsed: { ok: true; value: unknown } | { ok: false; error: Error }
  behaviour: Behaviour
  /** Refuse unknown top-level fields as Google does. */
  strict: boolean
  streamChunks: number
  chunkIntervalMs: number
}

type RouteHandler = (call: OpenAICall, body: Json) => void | Promise<void>

const ROUTES: Record<string, { method: 'GET' | 'POST'; handler: RouteHandler }> = {
  'chat/completions': { method: 'POST', handler: chatCompletions },
  embeddings: { method: 'POST', handler: embeddings },
  'images/generations': { method: 'POST', handler: images },
  models: { method: 'GET', handler: (call) => sendJson(call.ex, { object: 'list', data: MODELS.map(openaiModel) }) },
}

/** Whether the (parsed) request asks for a stream — decides the framing before anything is sent. */
export const wantsStream = (parsed: OpenAICall['parsed']): boolean => parsed.ok && isObject(parsed.value) && parsed.value.stream === true

export async function handleOpenAI(call: OpenAICall): Promise<void> {
  const { ex, method, route } = call
  if (route.startsWith('models/') && method === 'GET') {
    const info = findModel(stripModels(route.slice('models/'.length)))
    return info === undefined ? sendError(ex, routeNotFound()) : sendJson(ex, openaiModel(info))
  }
  const entry = Object.hasOwn(ROUTES, route) ? ROUTES[route] : undefined
  if (entry === undefined || entry.method !== method) return sendError(ex, routeNotFound())
  if (method === 'GET') return entry.handler(call, {})
  if (!call.parsed.ok) return sendError(ex, invalidJson(call.body, call.parsed.error))
  if (!isObject(call.parsed.value)) return sendError(ex, badRequest('Invalid JSON payload received. Root element must be a message.'))
  const unknown = call.strict ? checkOpenAIFields(route, call.parsed.value) : undefined
  if (unknown !== undefined) return sendError(ex, unknown)
  return entry.handler(call, call.parsed.value)
}

const stripModels = (id: string): string => (id.startsWith('models/') ? id.slice('models/'.length) : id)
const openaiModel = (m: { name: string }) => ({ id: m.name, object: 'model', owned_by: 'google' })

function modelOf(call: OpenAICall, body: Json, method: string): string | undefined {
  const model = typeof body.model === 'string' ? stripModels(body.model) : ''
  if (model === '') sendError(call.ex, invalidArgument('* GenerateContentRequest.model: unexpected model name format\n'))
  else if (findModel(model) === undefined) sendError(call.ex, modelNotFound(model, method))
  else return model
  return undefined
}

function messageText(message: unknown): string {
  if (!isObject(message)) return ''
  const content = message.content
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : ''))
    .filter((text) => text !== '')
    .join('\n')
}

async function chatCompletions(call: OpenAICall, body: Json): Promise<void> {
  if (modelOf(call, body, 'generateContent') === undefined) return
  const messages = Array.isArray(body.messages) ? body.messages : []
  const lastUser = [...messages].reverse().find((m) => isObject(m) && m.role === 'user')
  const text = call.behaviour === 'empty' ? '' : 'Echo: ' + messageText(lastUser)
  const promptTokens = messages.reduce<number>((sum, m) => sum + countWords(messageText(m)), 0)
  const usage = { completion_tokens: countWords(text), prompt_tokens: promptTokens, total_tokens: promptTokens + countWords(text) }
  const head = { created: Math.floor(Date.now() / 1000), id: newResponseId(), model: body.model }

  if (!body.stream) {
    const message = { content: text, role: 'assistant' }
    const choices = [{ finish_reason: 'stop', index: 0, message }]
    return sendJson(call.ex, { choices, ...head, object: 'chat.completion', usage })
  }
  const codePoints = Array.from(text)
  const count = Math.max(1, call.streamChunks)
  const truncated = call.behaviour === 'truncated-stream'
  const sent = truncated ? Math.max(1, count - 1) : count
  const piece = (i: number) => codePoints.slice(Math.floor((i * codePoints.length) / count), Math.floor(((i + 1) * codePoints.length) / count)).join('')
  const chunk = (i: number) => {
    const last = !truncated && i === count - 1
    const choice = { delta: { content: piece(i), role: 'assistant' }, ...(last && { finish_reason: 'stop' }), index: 0 }
    return { choices: [choice], ...head, object: 'chat.completion.chunk', ...(last && { usage }) }
  }
  await sendStream(call.ex, sent, chunk, call.chunkIntervalMs, { openaiDone: !truncated })
}

function embeddings(call: OpenAICall, body: Json): void {
  const model = modelOf(call, body, 'embedContent')
  if (model === undefined) return
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')]
  const dimensions = typeof body.dimensions === 'number' && body.dimensions > 0 ? Math.floor(body.dimensions) : undefined
  const data = inputs.map((input, index) => ({ embedding: embedValues(input, dimensions), index, object: 'embedding' }))
  const tokens = inputs.reduce((sum, input) => sum + countWords(input), 0)
  sendJson(call.ex, { data, model: `models/${model}`, object: 'list', usage: { prompt_tokens: tokens, total_tokens: tokens } })
}

/** A 1x1 transparent PNG per requested image (reconstructed shape, §6.3). */
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='

function images(call: OpenAICall, body: Json): void {
  if (modelOf(call, body, 'predict') === undefined) return
  const n = typeof body.n === 'number' && body.n > 0 ? Math.min(4, Math.floor(body.n)) : 1
  sendJson(call.ex, { created: Math.floor(Date.now() / 1000), data: Array.from({ length: n }, () => ({ b64_json: PIXEL })) })
}
