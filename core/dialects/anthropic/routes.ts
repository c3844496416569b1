import type { H3 } from 'h3'
import type { GatewayRequest, Operation } from '../../context.ts'
import type { Json } from '../../internal/json.ts'
import { mediaPreparer, type PendingMedia } from '../shared/request.ts'
import { defineGatewayRoute, type RouteCall } from '../shared/route.ts'
import type { DialectRouteDeps } from '../types.ts'
import { anthropicDialect } from './dialect.ts'
import { decodeCountTokensRequest, decodeMessagesRequest } from './request.ts'

/**
 * Anthropic's Messages API: POST /v1/messages (stream and not) and POST /v1/messages/count_tokens, decoded into the
 * canonical Gemini request and run through the same pipeline as every other dialect.
 */
export function registerAnthropicRoutes(app: H3, deps: DialectRouteDeps): void {
  const route = (handler: (call: RouteCall) => Promise<Response>) =>
    defineGatewayRoute(anthropicDialect, deps.guards, handler, { credentialHeaders: ['x-api-key'] })
  app.post(
    '/v1/messages',
    route((call) => messages(call, deps)),
  )
  app.post(
    '/v1/messages/count_tokens',
    route((call) => countTokens(call, deps)),
  )
}

async function messages(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  const decoded = decodeMessagesRequest(await call.json())
  const operation = decoded.stream ? 'streamGenerateContent' : 'generateContent'
  const request = anthropicRequest(call, deps, operation, decoded, { model: decoded.model, thinking: decoded.thinking })
  return deps.run(call.event, request, anthropicDialect)
}

async function countTokens(call: RouteCall, deps: DialectRouteDeps): Promise<Response> {
  let request: GatewayRequest | undefined
  const decoded = decodeCountTokensRequest(await call.json(), () => request!.upstreamModel)
  request = anthropicRequest(call, deps, 'countTokens', decoded, { model: decoded.model })
  return deps.run(call.event, request, anthropicDialect)
}

/** The canonical request of one call. Anthropic clients send `x-api-key` or a Bearer token; Google-style keys work too. */
function anthropicRequest(
  call: RouteCall,
  deps: DialectRouteDeps,
  operation: Operation,
  decoded: { model: string; body: Json; media: PendingMedia[] },
  dialectOptions: Record<string, unknown>,
): GatewayRequest {
  const model = call.model(decoded.model, 'model')
  return {
    operation,
    model,
    upstreamModel: model,
    stream: operation === 'streamGenerateContent',
    body: decoded.body,
    dialect: anthropicDialect.name,
    dialectOptions,
    credentials: call.credentials,
    prepare: mediaPreparer(decoded.media, deps),
  }
}
