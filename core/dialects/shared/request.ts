import type { H3Event } from 'h3'
import type { RequestContext } from '../../context.ts'
import { GatewayError } from '../../errors.ts'
import type { Json } from '../../internal/json.ts'
import { bearerToken } from '../../identity.ts'
import type { DialectRouteDeps } from '../types.ts'
import { DEFAULT_MEDIA_LIMITS, formatSize, type MediaLimits } from './media.ts'

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
export function gatewayErrorOrRethrow(error: unknown): GatewayError {
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
 * The request's `prepare`: fetches every pending URL (SSRF-guarded) into its part. It runs after auth, so an
 * unauthenticated caller makes the gateway fetch nothing. The request's media are bounded: a number of URLs (more
 * is refused before any fetch starts), a total size, and fetches in flight at once; the first failure, or the
 * client leaving, aborts the fetches in flight and starts no more. Undefined when there is nothing to fetch.
 */
export function mediaPreparer(
  media: readonly PendingMedia[],
  deps: Pick<DialectRouteDeps, 'fetchMedia'> & { mediaLimits?: MediaLimits },
): ((ctx: RequestContext) => Promise<void>) | undefined {
  if (media.length === 0) return undefined
  const limits = deps.mediaLimits ?? DEFAULT_MEDIA_LIMITS
  return async (ctx) => {
    if (media.length > limits.maxUrls) {
      const param = media[limits.maxUrls]!.param
      throw new GatewayError(
        400,
        `${param}: this request links ${media.length} media URLs; at most ${limits.maxUrls} are fetched per request (MEDIA_FETCH_MAX_URLS).`,
        { param },
      )
    }
    const stop = new AbortController()
    const signal = AbortSignal.any([ctx.signal, stop.signal])
    let failure: unknown
    let total = 0
    let next = 0
    const worker = async () => {
      while (!signal.aborted && next < media.length) {
        const { part, url, param, fallbackMimeType } = media[next++]!
        try {
          const fetched = await deps.fetchMedia(url, signal)
          total += Buffer.byteLength(fetched.data, 'base64')
          if (total > limits.maxTotalBytes) {
            throw new GatewayError(413, `The media of this request add up to more than ${formatSize(limits.maxTotalBytes)} (MEDIA_FETCH_TOTAL_MAX_MB).`)
          }
          const untyped = fetched.mimeType === '' || fetched.mimeType === 'application/octet-stream'
          part.inlineData = { mimeType: fallbackMimeType && untyped ? fallbackMimeType : fetched.mimeType, data: fetched.data }
        } catch (error) {
          if (failure !== undefined) continue
          failure =
            error instanceof GatewayError
              ? new GatewayError(error.status, `${param}: ${error.message}`, { param, headers: error.headers, cause: error })
              : error
          stop.abort()
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(limits.concurrency, media.length) }, worker))
    if (ctx.signal.aborted) throw new GatewayError(499, 'The client closed the request.')
    if (failure !== undefined) throw failure
  }
}
