import type { Outcome, RequestContext } from '../context.ts'
import { Payload } from '../payload.ts'
import type { UpstreamAttempt, UpstreamCall } from '../plugin.ts'
import { readSseData } from '../sse.ts'
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

/** The plain call to the Gemini REST API with one key; plugins wrap it with `wrapUpstream`. */
export function createGeminiCall(options: GeminiCallOptions): UpstreamCall {
  const base = options.baseUrl.replace(/\/+$/, '')
  return async (attempt: UpstreamAttempt, ctx: RequestContext): Promise<Outcome> => {
    const { method, url } = target(base, attempt, ctx.request.query)
    const response = await options.client.send({
      method,
      url,
      headers: {
        ...options.customHeaders,
        'content-type': 'application/json',
        'x-goog-api-key': attempt.key.secret,
      },
      body: method === 'POST' ? attempt.body : undefined,
      signal: ctx.signal,
      proxy: options.chooseProxy(attempt.key.id),
    })
    if (response.status < 200 || response.status > 299) {
      const body = await readCapped(response)
      throw new UpstreamHttpError(response.status, body, response.header('retry-after'))
    }
    if (attempt.stream) return { kind: 'stream', chunks: sseChunks(response) }
    return { kind: 'json', status: response.status, body: Payload.fromText(await response.text()) }
  }
}

function target(base: string, attempt: UpstreamAttempt, query: Record<string, string> | undefined): { method: 'GET' | 'POST'; url: string } {
  switch (attempt.operation) {
    case 'listModels': {
      const search = new URLSearchParams(query).toString()
      return { method: 'GET', url: `${base}/models${search ? `?${search}` : ''}` }
    }
    case 'getModel':
      return { method: 'GET', url: `${base}/models/${attempt.model}` }
    default: {
      const action = attempt.stream ? 'streamGenerateContent?alt=sse' : attempt.operation
      return { method: 'POST', url: `${base}/models/${attempt.model}:${action}` }
    }
  }
}

async function* sseChunks(response: UpstreamResponse): AsyncGenerator<Payload> {
  for await (const data of readSseData(response.chunks())) yield Payload.fromText(data)
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
