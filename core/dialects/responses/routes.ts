import type { H3 } from 'h3'
import type { GatewayRequest } from '../../context.ts'
import { notFound } from '../../errors.ts'
import type { Json } from '../../internal/json.ts'
import { mediaPreparer } from '../shared/request.ts'
import { defineGatewayRoute, type RouteCall } from '../shared/route.ts'
import type { DialectRouteDeps } from '../types.ts'
import { decodeResponsesRequest, type DecodedRequest } from './decode.ts'
import { responsesDialect } from './dialect.ts'

const STATELESS = 'This gateway is stateless: responses are not stored, so they cannot be retrieved, listed, cancelled or deleted.'

/**
 * The OpenAI Responses API under /v1/responses (and /hf/v1/responses, like the converted OpenAI API): create, stream
 * and count input tokens. The stored-response routes answer a clear OpenAI-shaped 404 instead of a generic one.
 */
export function registerResponsesRoutes(app: H3, deps: DialectRouteDeps): void {
  const route = (handler: (call: RouteCall) => Promise<Response>) => defineGatewayRoute(responsesDialect, deps.guards, handler)
  const stored = route(() => Promise.reject(notFound(STATELESS)))
  for (const prefix of ['/v1', '/hf/v1']) {
    app.post(
      `${prefix}/responses`,
      route((call) => create(call, deps, 'response')),
    )
    app.post(
      `${prefix}/responses/input_tokens`,
      route((call) => create(call, deps, 'input_tokens')),
    )
    app.get(`${prefix}/responses/:id`, stored)
    app.delete(`${prefix}/responses/:id`, stored)
    app.get(`${prefix}/responses/:id/input_items`, stored)
    app.post(`${prefix}/responses/:id/cancel`, stored)
  }
}

async function create(call: RouteCall, deps: DialectRouteDeps, kind: 'response' | 'input_tokens'): Promise<Response> {
  const body = await call.json()
  if (kind === 'input_tokens') body.stream = false
  const decoded = decodeResponsesRequest(body)
  decoded.options.kind = kind
  const model = call.model(decoded.model, 'model')
  const request: GatewayRequest = {
    operation: kind === 'input_tokens' ? 'countTokens' : decoded.stream ? 'streamGenerateContent' : 'generateContent',
    model,
    upstreamModel: model,
    stream: decoded.stream,
    body: kind === 'input_tokens' ? countTokensBody(decoded) : decoded.body,
    dialect: responsesDialect.name,
    dialectOptions: { ...decoded.options },
    credentials: call.credentials,
    prepare: mediaPreparer(decoded.media, deps),
  }
  return deps.run(call.event, request, responsesDialect)
}

/** countTokens takes the whole generate request (system instruction, tools and all) wrapped with its model. */
function countTokensBody(decoded: DecodedRequest): Json {
  return { generateContentRequest: { model: `models/${decoded.model}`, ...decoded.body } }
}
