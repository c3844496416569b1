import { getRouterParam, type H3, type H3Event } from 'h3'
import { FastResponse } from 'srvx'
import type { GatewayRequest, Operation } from '../context.ts'
import { GatewayError, toGatewayError, upstreamJsonBody } from '../errors.ts'
import type { Payload } from '../payload.ts'
import { SSE_HEADERS, responseBody } from '../sse.ts'
import { parseBody, readBodyText } from './shared/body.ts'
import { asGatewayError, credentialsOf } from './shared/request.ts'
import { modelId, shortModelName } from './shared/models.ts'
import type { Dialect, DialectRouteDeps } from './types.ts'
import { openaiErrorObject } from './openai/errors.ts'

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
    return new FastResponse(responseBody(events(outcome.chunks)), {
      headers: { ...SSE_HEADERS, 'content-type': 'text/event-stream' },
    })
  },
  error(error) {
    const body = upstreamJsonBody(error) ?? JSON.stringify(openaiErrorObject(error))
    return new FastResponse(body, { status: error.status, headers: { 'content-type': JSON_TYPE, ...error.headers } })
  },
}

async function* events(chunks: AsyncIterable<Payload>): AsyncGenerator<string> {
  try {
    for await (const chunk of chunks) yield `data: ${chunk.text}\n\n`
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
    app[method](`/openai/v1${path}`, (event) => forward(event, operation, deps))
  }
}

async function forward(event: H3Event, operation: Operation, deps: DialectRouteDeps): Promise<Response> {
  try {
    const request = await decode(event, operation, deps.maxBodyBytes)
    return await deps.run(event, request, openaiPassthroughDialect)
  } catch (error) {
    return openaiPassthroughDialect.error(asGatewayError(error), event)
  }
}

async function decode(event: H3Event, operation: Operation, maxBodyBytes: number): Promise<GatewayRequest> {
  const request: GatewayRequest = {
    operation,
    model: '',
    upstreamModel: '',
    stream: false,
    body: {},
    dialect: 'openai-passthrough',
    credentials: credentialsOf(event),
  }
  if (operation === 'openai.model') {
    // The id goes into the upstream URL path: only a plain model id may pass.
    const given = decodeURIComponent(getRouterParam(event, 'model') ?? '')
    const model = modelId(given)
    if (!model) throw new GatewayError(400, `Invalid model name "${given.slice(0, 64)}".`, { param: 'model' })
    request.model = request.upstreamModel = model
    return request
  }
  if (event.req.method !== 'POST') return request
  request.rawBody = await readBodyText(event, maxBodyBytes)
  request.body = parseBody(request.rawBody)
  const model = request.body.model
  if (typeof model !== 'string' || model === '') throw new GatewayError(400, 'you must provide a model parameter', { param: 'model' })
  // Google accepts "models/x" and "x"; filters and logs use the bare id, the body keeps what the client sent.
  request.model = request.upstreamModel = shortModelName(model)
  request.stream = request.body.stream === true
  return request
}
