import type { H3, H3Event } from 'h3'
import type { GatewayRequest, RequestContext } from '../../context.ts'
import { GatewayError, notFound } from '../../errors.ts'
import { bearerToken } from '../../stages/auth.ts'
import { parseBody, readBodyText } from '../shared/body.ts'
import type { DialectRouteDeps } from '../types.ts'
import { decodeResponsesRequest, type DecodedRequest } from './decode.ts'
import { responsesDialect } from './dialect.ts'
import { errorResponse } from './errors.ts'
import type { MediaSlot } from './input.ts'

const STATELESS = 'This gateway is stateless: responses are not stored, so they cannot be retrieved, listed, cancelled or deleted.'

/**
 * The OpenAI Responses API under /v1/responses (and /hf/v1/responses, like the converted OpenAI API): create, stream
 * and count input tokens. The stored-response routes answer a clear OpenAI-shaped 404 instead of a generic one.
 */
export function registerResponsesRoutes(app: H3, deps: DialectRouteDeps): void {
  for (const prefix of ['/v1', '/hf/v1']) {
    app.post(`${prefix}/responses`, (event) => create(event, deps, 'response'))
    app.post(`${prefix}/responses/input_tokens`, (event) => create(event, deps, 'input_tokens'))
    app.get(`${prefix}/responses/:id`, stored)
    app.delete(`${prefix}/responses/:id`, stored)
    app.get(`${prefix}/responses/:id/input_items`, stored)
    app.post(`${prefix}/responses/:id/cancel`, stored)
  }
}

const stored = () => errorResponse(notFound(STATELESS))

function credentialsOf(event: H3Event): (string | undefined)[] {
  const headers = event.req.headers
  return [event.url.searchParams.get('key') ?? undefined, headers.get('x-goog-api-key') ?? undefined, bearerToken(headers.get('authorization'))]
}

async function create(event: H3Event, deps: DialectRouteDeps, kind: 'response' | 'input_tokens'): Promise<Response> {
  try {
    const body = parseBody(await readBodyText(event, deps.maxBodyBytes))
    if (kind === 'input_tokens') body.stream = false
    const decoded = decodeResponsesRequest(body)
    decoded.options.kind = kind
    const request: GatewayRequest = {
      operation: kind === 'input_tokens' ? 'countTokens' : decoded.stream ? 'streamGenerateContent' : 'generateContent',
      model: decoded.model,
      upstreamModel: decoded.model,
      stream: decoded.stream,
      body: kind === 'input_tokens' ? countTokensBody(decoded) : decoded.body,
      dialect: responsesDialect.name,
      dialectOptions: { ...decoded.options },
      credentials: credentialsOf(event),
    }
    if (decoded.media.length > 0) request.prepare = (ctx) => fetchMedia(decoded.media, deps, ctx)
    return await deps.run(event, request, responsesDialect)
  } catch (error) {
    if (error instanceof GatewayError) return responsesDialect.error(error, event)
    throw error
  }
}

/** countTokens takes the whole generate request (system instruction, tools and all) wrapped with its model. */
function countTokensBody(decoded: DecodedRequest): Record<string, any> {
  return { generateContentRequest: { model: `models/${decoded.model}`, ...decoded.body } }
}

/** Fetches every http(s) image/file of the input (after auth), in parallel, into its part. */
async function fetchMedia(slots: MediaSlot[], deps: DialectRouteDeps, ctx: RequestContext): Promise<void> {
  await Promise.all(
    slots.map(async (slot) => {
      try {
        slot.part.inlineData = await deps.fetchMedia(slot.url, ctx.signal)
      } catch (error) {
        if (error instanceof GatewayError) throw new GatewayError(error.status, `${slot.param}: ${error.message}`, { param: slot.param })
        throw error
      }
    }),
  )
}
