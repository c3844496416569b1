import type { H3, H3Event } from 'h3'
import type { GatewayRequest, Operation } from '../../context.ts'
import type { Json } from '../../internal/json.ts'
import { parseBody, readBodyText } from '../shared/body.ts'
import { asGatewayError, credentialsOf, mediaPreparer, type PendingMedia } from '../shared/request.ts'
import type { DialectRouteDeps } from '../types.ts'
import { anthropicDialect } from './dialect.ts'
import { decodeCountTokensRequest, decodeMessagesRequest } from './request.ts'

/**
 * Anthropic's Messages API: POST /v1/messages (stream and not) and POST /v1/messages/count_tokens, decoded into the
 * canonical Gemini request and run through the same pipeline as every other dialect.
 */
export function registerAnthropicRoutes(app: H3, deps: DialectRouteDeps): void {
  app.post('/v1/messages', (event) => messages(event, deps))
  app.post('/v1/messages/count_tokens', (event) => countTokens(event, deps))
}

async function messages(event: H3Event, deps: DialectRouteDeps): Promise<Response> {
  try {
    const decoded = decodeMessagesRequest(parseBody(await readBodyText(event, deps.maxBodyBytes)))
    const operation = decoded.stream ? 'streamGenerateContent' : 'generateContent'
    const request = anthropicRequest(event, deps, operation, decoded, { model: decoded.model, thinking: decoded.thinking })
    return await deps.run(event, request, anthropicDialect)
  } catch (error) {
    return anthropicDialect.error(asGatewayError(error), event)
  }
}

async function countTokens(event: H3Event, deps: DialectRouteDeps): Promise<Response> {
  try {
    const raw = parseBody(await readBodyText(event, deps.maxBodyBytes))
    let request: GatewayRequest | undefined
    const decoded = decodeCountTokensRequest(raw, () => request!.upstreamModel)
    request = anthropicRequest(event, deps, 'countTokens', decoded, { model: decoded.model })
    return await deps.run(event, request, anthropicDialect)
  } catch (error) {
    return anthropicDialect.error(asGatewayError(error), event)
  }
}

/** The canonical request of one call. Anthropic clients send `x-api-key` or a Bearer token; Google-style keys work too. */
function anthropicRequest(
  event: H3Event,
  deps: DialectRouteDeps,
  operation: Operation,
  decoded: { model: string; body: Json; media: PendingMedia[] },
  dialectOptions: Record<string, unknown>,
): GatewayRequest {
  return {
    operation,
    model: decoded.model,
    upstreamModel: decoded.model,
    stream: operation === 'streamGenerateContent',
    body: decoded.body,
    dialect: anthropicDialect.name,
    dialectOptions,
    credentials: credentialsOf(event, 'x-api-key'),
    prepare: mediaPreparer(decoded.media, deps),
  }
}
