// Native routes under /v1beta: models.list/get, generateContent, streamGenerateContent, countTokens, embeddings.

import type { FakeError } from './errors.ts'
import { badRequest, invalidArgument, invalidJson, modelGetNotFound, modelRetired, routeNotFound } from './errors.ts'
import type { Exchange } from './exchange.ts'
import type { Json } from './responses.ts'
import { EchoAnswer, batchEmbedResponse, countTokensResponse, embedContentResponse, isObject } from './responses.ts'
import { RETIRED_MODELS, checkModelAction, findModel, listModels } from './models.ts'
import { sendError, sendJson, sendStream } from './respond.ts'
import type { Behaviour } from './types.ts'
import { checkFileReferences, checkNativeFields } from './validate.ts'
import { withThoughtChunk, withThoughts } from './thinking.ts'
import { toolAnswer } from './tools.ts'
import { speechAnswer, wantsAudio } from './audio.ts'

export interface NativeCall {
  ex: Exchange
  method: string
  /** Path after "/v1beta/". */
  rest: string
  query: Record<string, string>
  body: string
  parsed: { ok: true; value: unknown } | { ok: false; error: Error }
  model: string | undefined
  action: string | undefined
  /** Behaviours that shape a successful answer: 'empty', 'blocked', 'truncated-stream' (others answer normally). */
  behaviour: Behaviour
  /** Refuse unknown/mistyped top-level fields and file references as Google does. */
  strict: boolean
  /** Files this request's key owns (resources.ts); others are refused. */
  readable?: (fileId: string) => boolean
  streamChunks: number
  chunkIntervalMs: number
}

const GENERATE_HEADERS = { 'x-gemini-service-tier': 'standard' }

export async function handleNative(call: NativeCall): Promise<void> {
  const { ex, method, rest, model, action } = call
  if (rest === 'models') {
    if (method !== 'GET') return sendError(ex, routeNotFound())
    const result = listModels(call.query)
    return 'error' in result ? sendError(ex, result.error) : sendJson(ex, result.body)
  }
  if (model === undefined || !rest.startsWith('models/')) return sendError(ex, routeNotFound())
  if (action === undefined) {
    if (method !== 'GET') return sendError(ex, routeNotFound())
    const retiredFor = Object.hasOwn(RETIRED_MODELS, model) ? RETIRED_MODELS[model] : undefined
    if (retiredFor !== undefined) return sendError(ex, modelRetired(model, retiredFor))
    const info = findModel(model)
    return info === undefined ? sendError(ex, modelGetNotFound(model)) : sendJson(ex, info)
  }
  if (method !== 'POST' || !Object.hasOwn(ACTIONS, action)) return sendError(ex, routeNotFound())

  const request = requestObject(call)
  if ('error' in request) return sendError(ex, request.error)
  const malformed = call.strict ? checkNativeFields(action, request.value) : undefined
  if (malformed !== undefined) return sendError(ex, malformed)
  const unsupported = checkModelAction(model, action)
  if (unsupported !== undefined) return sendError(ex, unsupported)
  const unreadable = call.strict ? checkFileReferences(request.value, call.readable) : undefined
  if (unreadable !== undefined) return sendError(ex, unreadable)
  return ACTIONS[action]!(call, model, request.value)
}

type ActionHandler = (call: NativeCall, model: string, request: Json) => void | Promise<void>

const ACTIONS: Record<string, ActionHandler> = {
  generateContent(call, model, request) {
    const missing = checkContents(request)
    if (missing !== undefined) return sendError(call.ex, missing)
    if (wantsAudio(request) && call.behaviour !== 'empty' && call.behaviour !== 'blocked')
      return sendJson(call.ex, speechAnswer(model, request), 200, GENERATE_HEADERS)
    const answer = new EchoAnswer(model, request)
    const body =
      call.behaviour === 'empty'
        ? answer.empty()
        : call.behaviour === 'blocked'
          ? answer.blocked()
          : withThoughts(request, toolAnswer(answer, request)?.full() ?? answer.full())
    sendJson(call.ex, body, 200, GENERATE_HEADERS)
  },

  streamGenerateContent(call, model, request) {
    const missing = checkContents(request)
    if (missing !== undefined) return sendError(call.ex, missing)
    const answer = new EchoAnswer(model, request)
    const options = { headers: GENERATE_HEADERS }
    switch (call.behaviour) {
      case 'empty':
        return sendStream(call.ex, 0, () => undefined, 0, options)
      case 'blocked':
        return sendStream(call.ex, 1, () => answer.blocked(), 0, options)
      case 'truncated-stream': {
        const chunks = answer.chunks(call.streamChunks)
        const sent = Math.max(1, chunks.count - 1)
        const item = call.ex.framing === 'sse' ? (i: number) => chunks.line(i, false) : (i: number) => chunks.get(i, false)
        return sendStream(call.ex, sent, item, call.chunkIntervalMs, options)
      }
      default: {
        if (wantsAudio(request)) return sendStream(call.ex, 1, () => speechAnswer(model, request), 0, options)
        const chunks = answer.chunks(call.streamChunks)
        const tooled = toolAnswer(answer, request)?.chunks(call.streamChunks)
        // SSE lines come pre-serialised (a string item is framed verbatim); the JSON array form pretty-prints objects.
        const item = tooled ? (i: number) => tooled[i] : call.ex.framing === 'sse' ? (i: number) => chunks.line(i) : (i: number) => chunks.get(i)
        const thinking = withThoughtChunk(request, answer, tooled?.length ?? chunks.count, item)
        return sendStream(call.ex, thinking.count, thinking.item, call.chunkIntervalMs, options)
      }
    }
  },

  countTokens(call, _model, request) {
    sendJson(call.ex, countTokensResponse(request))
  },

  embedContent(call, _model, request) {
    sendJson(call.ex, embedContentResponse(request))
  },

  batchEmbedContents(call, model, request) {
    const result = batchEmbedResponse(model, request)
    return 'error' in result ? sendError(call.ex, result.error) : sendJson(call.ex, result.body)
  },
}

function requestObject(call: NativeCall): { value: Json } | { error: FakeError } {
  if (!call.parsed.ok) return { error: invalidJson(call.body, call.parsed.error) }
  const value = call.parsed.value
  if (!isObject(value)) {
    return { error: badRequest('Invalid JSON payload received. Unknown name "": Root element must be a message.') }
  }
  return { value }
}

export function checkContents(request: Json): FakeError | undefined {
  const contents = request.contents
  if (contents === undefined || (Array.isArray(contents) && contents.length === 0)) {
    return invalidArgument('* GenerateContentRequest.contents: contents is not specified\n')
  }
  return undefined
}
