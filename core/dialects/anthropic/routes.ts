import type { H3, H3Event } from 'h3'
import type { GatewayRequest, RequestContext } from '../../context.ts'
import { GatewayError } from '../../errors.ts'
import { bearerToken } from '../../stages/auth.ts'
import { parseBody, readBodyText } from '../shared/body.ts'
import type { DialectRouteDeps } from '../types.ts'
import type { PendingMedia } from './content.ts'
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
    const request: GatewayRequest = {
      operation: decoded.stream ? 'streamGenerateContent' : 'generateContent',
      model: decoded.model,
      upstreamModel: decoded.model,
      stream: decoded.stream,
      body: decoded.body,
      dialect: anthropicDialect.name,
      dialectOptions: { model: decoded.model, thinking: decoded.thinking },
      credentials: credentialsOf(event),
    }
    const prepare = fetchMediaLater(decoded.media, deps)
    if (prepare) request.prepare = prepare
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
    request = {
      operation: 'countTokens',
      model: decoded.model,
      upstreamModel: decoded.model,
      stream: false,
      body: decoded.body,
      dialect: anthropicDialect.name,
      dialectOptions: { model: decoded.model },
      credentials: credentialsOf(event),
    }
    const prepare = fetchMediaLater(decoded.media, deps)
    if (prepare) request.prepare = prepare
    return await deps.run(event, request, anthropicDialect)
  } catch (error) {
    return anthropicDialect.error(asGatewayError(error), event)
  }
}

/** Anthropic clients send `x-api-key` or a Bearer token; Google-style keys work too. */
function credentialsOf(event: H3Event): (string | undefined)[] {
  const headers = event.req.headers
  return [
    headers.get('x-api-key') ?? undefined,
    bearerToken(headers.get('authorization')),
    headers.get('x-goog-api-key') ?? undefined,
    event.url.searchParams.get('key') ?? undefined,
  ]
}

/** Image and document URLs are fetched only once the client is authenticated, all at once. */
function fetchMediaLater(media: PendingMedia[], deps: DialectRouteDeps): ((ctx: RequestContext) => Promise<void>) | undefined {
  if (media.length === 0) return undefined
  return async (ctx) => {
    await Promise.all(
      media.map(async ({ part, url, kind }) => {
        const fetched = await deps.fetchMedia(url, ctx.signal)
        const mimeType = kind === 'document' && (fetched.mimeType === 'application/octet-stream' || fetched.mimeType === '') ? 'application/pdf' : fetched.mimeType
        part.inlineData = { mimeType, data: fetched.data }
      }),
    )
  }
}

function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  throw error
}
