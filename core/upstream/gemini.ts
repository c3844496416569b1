import type { Outcome, RequestContext } from '../context.ts'
import { Payload } from '../payload.ts'
import type { UpstreamAttempt, UpstreamCall } from '../plugin.ts'
import { readSsePayloads } from '../sse.ts'
import { operationSpec } from './operations.ts'
import type { UpstreamClient, UpstreamResponse } from './client.ts'
import type { ProxyChooser } from './proxies.ts'

/** Google answered with an error status; the body is kept verbatim so it can reach the client unchanged. */
export class UpstreamHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly retryAfter: string | undefined,
  ) {
    super(`upstream answered ${status}`)
    this.name = 'UpstreamHttpError'
  }
}

export interface GeminiCallOptions {
  client: UpstreamClient
  /** BASE_URL, e.g. https://generativelanguage.googleapis.com/v1beta */
  baseUrl: string
  customHeaders: Record<string, string>
  chooseProxy: ProxyChooser
}

const MAX_ERROR_BODY = 256 * 1024

/** The plain call to Google with one key (native REST or its OpenAI layer); plugins wrap it with `wrapUpstream`. */
export function createGeminiCall(options: GeminiCallOptions): UpstreamCall {
  const base = options.baseUrl.replace(/\/+$/, '')
  return async (attempt: UpstreamAttempt, ctx: RequestContext): Promise<Outcome> => {
    const spec = operationSpec(attempt.operation)
    const query = ctx.request.query ? new URLSearchParams(ctx.request.query).toString() : ''
    const url = base + spec.path(attempt.model, attempt.stream) + (query ? `?${query}` : '')
    const response = await options.client.send({
      method: spec.method,
      url,
      headers: {
        ...options.customHeaders,
        'content-type': 'application/json',
        ...(spec.auth === 'bearer' ? { authorization: `Bearer ${attempt.key.secret}` } : { 'x-goog-api-key': attempt.key.secret }),
      },
      body: spec.method === 'POST' ? attempt.body : undefined,
      signal: ctx.signal,
      proxy: options.chooseProxy(attempt.key.id),
    })
    if (response.status < 200 || response.status > 299) {
      const body = await readCapped(response)
      throw new UpstreamHttpError(response.status, body, response.header('retry-after'))
    }
    if (attempt.stream) return { kind: 'stream', chunks: readSsePayloads(response.chunks()) }
    return { kind: 'json', status: response.status, body: Payload.fromText(await response.text()) }
  }
}

async function readCapped(response: UpstreamResponse): Promise<string> {
  let text = ''
  const decoder = new TextDecoder()
  for await (const piece of response.chunks()) {
    text += decoder.decode(piece, { stream: true })
    if (text.length > MAX_ERROR_BODY) {
      response.discard()
      return text.slice(0, MAX_ERROR_BODY)
    }
  }
  return text + decoder.decode()
}
