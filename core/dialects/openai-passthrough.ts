import { getRouterParam, type H3 } from 'h3'
import { FastResponse } from 'srvx'
import type { GatewayRequest, Operation } from '../context.ts'
import { toGatewayError, upstreamJsonBody } from '../errors.ts'
import type { Payload } from '../payload.ts'
import { SSE_HEADERS, responseBody } from '../sse.ts'
import { arrivalsOf, isBatch } from '../stream.ts'
import { parseBody } from './shared/body.ts'
import { defineGatewayRoute, type RouteCall } from './shared/route.ts'
import type { Dialect, DialectRouteDeps } from './types.ts'
import { openaiErrorObject } from './openai/errors.ts'
import { SSE_KEEP_ALIVE } from './shared/keep-alive.ts'

const JSON_TYPE = 'application/json'

/**
 * Google's own OpenAI-compatible layer, forwarded: bodies go as the client sent them (no field dropped, no
 * default added) and answers come back as Google sent them, with the pool's keys, rotation and retries.
 * Google's errors pass through in Google's shape (an array-wrapped Google error), exactly what a client
 * calling Google directly would see; the gateway's own errors use OpenAI's shape.
 */
export const openaiPassthroughDialect: Dialect = {
  name: 'openai-passthrough',
  respond(outcome) {
    if (outcome.kind === 'json') return new FastResponse(outcome.body.text, { status: outcome.status, headers: { 'content-type': JSON_TYPE } })
    return new FastResponse(responseBody(encodeStream(outcome.chunks)), {
      headers: { ...SSE_HEADERS, 'content-type': 'text/event-stream' },
    })
  },
  error(error) {
    const body = upstreamJsonBody(error) ?? JSON.stringify(openaiErrorObject(error))
    return new FastResponse(body, { status: error.status, headers: { 'content-type': JSON_TYPE, ...error.headers } })
  },
}

/** Google's OpenAI-layer SSE bytes as they came, a network read per write; events made by a stage framed alike. */
async function* encodeStream(chunks: AsyncIterable<Payload>): AsyncGenerator<string | Uint8Array> {
  try {
    for await (const arrival of arrivalsOf(chunks)) {
      if (arrival.keepAlive) yield SSE_KEEP_ALIVE
      else if (!isBatch(arrival)) yield `data: ${arrival.text}\n\n`
      else yield arrival.sse ?? arrival.texts.map((text) => `data: ${text}\n\n`).join('')
    }
  } catch (error) {
    // Past the first byte the status is sent; the failure becomes an error event instead of a fake [DONE].
    yield `data: ${JSON.stringify(openaiErrorObject(toGatewayError(error)))}\n\n`
  }
}

const ROUTES: [method: 'get' | 'post', path: string, operation: Operation][] = [
  ['post', '/chat/completions', 'openai.chat'],
  ['post', '/embeddings', 'openai.embeddings'],
  ['post', '/images/generations', 'openai.images'],
  ['get', '/models', 'openai.models'],
  ['get', '/models/**:model', 'openai.model'],
]

export function registerOpenAIPassthroughRoutes(app: H3, deps: DialectRouteDeps): void {
  for (const [method, path, operation] of ROUTES) {
    app[method](
      `/openai/v1${path}`,
      defineGatewayRoute(openaiPassthroughDialect, deps.guards, (call) => forward(call, operation, deps)),
    )
  }
}

async function forward(call: RouteCall, operation: Operation, deps: DialectRouteDeps): Promise<Response> {
  const request: GatewayRequest = {
    operation,
    model: '',
    upstreamModel: '',
    stream: false,
    body: {},
    dialect: 'openai-passthrough',
    credentials: call.credentials,
  }
  if (operation === 'openai.model') {
    // The id goes into the upstream URL path: only a plain model id may pass.
    request.model = request.upstreamModel = call.model(decodeURIComponent(getRouterParam(call.event, 'model') ?? ''), 'model')
  } else if (call.event.req.method === 'POST') {
    request.rawBody = await call.text()
    request.body = parseBody(request.rawBody)
    // Google accepts "models/x" and "x"; filters, cooldowns and logs use the bare id, the body keeps what the client sent.
    request.model = request.upstreamModel = call.model(request.body.model, 'model')
    request.stream = request.body.stream === true
  }
  return deps.run(call.event, request, openaiPassthroughDialect)
}
