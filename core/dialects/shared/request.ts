import type { H3Event } from 'h3'
import type { RequestContext } from '../../context.ts'
import { GatewayError } from '../../errors.ts'
import type { Json } from '../../internal/json.ts'
import { bearerToken } from '../../stages/auth.ts'
import type { DialectRouteDeps } from '../types.ts'

/**
 * Every credential the client presented: the dialect's own headers (Anthropic's `x-api-key`), a Bearer token,
 * `x-goog-api-key` and `?key=`. The auth stage accepts the request when any one of them is a gateway token.
 */
export function credentialsOf(event: H3Event, ...extraHeaders: string[]): (string | undefined)[] {
  const headers = event.req.headers
  return [
    ...extraHeaders.map((name) => headers.get(name) ?? undefined),
    bearerToken(headers.get('authorization')),
    headers.get('x-goog-api-key') ?? undefined,
    event.url.searchParams.get('key') ?? undefined,
  ]
}

/**
 * A route's own refusals (GatewayErrors) are answered in its dialect's shape; anything else is a bug, rethrown for
 * the app's onError to log and answer as a 500.
 */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  throw error
}

/** A part whose `inlineData` is filled in from an http(s) URL the client gave, once the client is authenticated. */
export interface PendingMedia {
  part: Json
  url: string
  /** The request field the URL came from, named in the error when fetching it fails. */
  param: string
  /** The type to use when the server does not say (Anthropic documents are PDFs). */
  fallbackMimeType?: string
}

/**
 * The request's `prepare`: fetches every pending URL (SSRF-guarded, in parallel) into its part. It runs after auth,
 * so an unauthenticated caller makes the gateway fetch nothing. Undefined when there is nothing to fetch.
 */
export function mediaPreparer(media: readonly PendingMedia[], deps: Pick<DialectRouteDeps, 'fetchMedia'>): ((ctx: RequestContext) => Promise<void>) | undefined {
  if (media.length === 0) return undefined
  return async (ctx) => {
    await Promise.all(
      media.map(async ({ part, url, param, fallbackMimeType }) => {
        let fetched
        try {
          fetched = await deps.fetchMedia(url, ctx.signal)
        } catch (error) {
          const failure = asGatewayError(error)
          throw new GatewayError(failure.status, `${param}: ${failure.message}`, { param, headers: failure.headers, cause: error })
        }
        const untyped = fetched.mimeType === '' || fetched.mimeType === 'application/octet-stream'
        part.inlineData = { mimeType: fallbackMimeType && untyped ? fallbackMimeType : fetched.mimeType, data: fetched.data }
      }),
    )
  }
}
