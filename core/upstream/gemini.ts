import type { JsonOutcome, Outcome, RequestContext } from '../context.ts'
import { modelId } from '../dialects/shared/models.ts'
import { GatewayError } from '../errors.ts'
import { Payload } from '../payload.ts'
import type { UpstreamAttempt, UpstreamCall } from './types.ts'
import { EventStream, readSseBatches } from '../stream.ts'
import type { OperationTable } from './operations.ts'
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
  operations: OperationTable
}

const MAX_ERROR_BODY = 256 * 1024
const ABSOLUTE = /^https?:\/\//

/** The plain call to Google with one key (native REST or its OpenAI layer); plugins wrap it with `wrapUpstream`. */
export function createGeminiCall(options: GeminiCallOptions): UpstreamCall {
  const base = options.baseUrl.replace(/\/+$/, '')
  return async (attempt: UpstreamAttempt, ctx: RequestContext): Promise<Outcome> => {
    const spec = options.operations(attempt.operation)
    if (spec.modelInPath) assertModelId(attempt.model)
    if (ctx.request.resource !== undefined) assertResourcePath(ctx.request.resource)
    const query = ctx.request.query ? new URLSearchParams(ctx.request.query).toString() : ''
    const path = spec.path(attempt.model, attempt.stream, ctx.request)
    // A plugin's operation may live outside BASE_URL (an upload URL): an absolute path is taken as it is.
    const url = (ABSOLUTE.test(path) ? path : (ctx.baseUrl?.replace(/\/+$/, '') ?? base) + path) + (query ? `?${query}` : '')
    const response = await options.client.send({
      method: spec.method,
      url,
      headers: {
        ...options.customHeaders,
        'content-type': 'application/json',
        ...ctx.request.headers,
        ...(spec.auth === 'bearer' ? { authorization: `Bearer ${attempt.key.secret}` } : { 'x-goog-api-key': attempt.key.secret }),
      },
      body: spec.method === 'POST' || spec.method === 'PATCH' ? attempt.body : undefined,
      signal: ctx.signal,
      proxy: options.chooseProxy(attempt.key.id),
    })
    if (response.status < 200 || response.status > 299) {
      // Google names the key in some refusals ("Consumer 'api_key:AIza…' has been suspended"): from here on, the
      // logs, the judge's reasons and any client only ever see its masked label.
      const body = (await readCapped(response)).replaceAll(attempt.key.secret, attempt.key.label)
      throw new UpstreamHttpError(response.status, body, response.header('retry-after'))
    }
    if (attempt.stream) return { kind: 'stream', chunks: new EventStream(readSseBatches(response.chunks())) }
    const outcome: JsonOutcome = { kind: 'json', status: response.status, body: Payload.fromText(await response.text()) }
    if (spec.responseHeaders) outcome.headers = pickHeaders(response, spec.responseHeaders)
    return outcome
  }
}

function pickHeaders(response: UpstreamResponse, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const name of names) {
    const value = response.header(name)
    if (value !== undefined) picked[name] = value
  }
  return picked
}

/**
 * The routes let only plain model ids in; a plugin may rewrite the model afterwards (an alias, a variant). What
 * reaches the URL path is checked again here, so a slash or an escape never changes which Google endpoint is
 * called. A bad id here is the gateway's bug (a plugin's), hence a 500 that the runner logs, and no call.
 */
function assertModelId(model: unknown): void {
  if (typeof model !== 'string' || modelId(model) !== model) {
    throw new GatewayError(500, `The upstream model name "${String(model).slice(0, 64)}" (set by a plugin) is not a valid model id; the call was not sent.`)
  }
}

/** Resource ids and names (`files/abc`, `models/veo-3.0/operations/x`, `batches/b:cancel`): no `..`, `?`, `%` or `//`. */
const RESOURCE_PATH = /^[A-Za-z][A-Za-z0-9]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*(?::[A-Za-z]+)?$/

/** The same guard as for model ids: a resource path a plugin put together never changes which endpoint is called. */
function assertResourcePath(resource: string): void {
  if (resource.length > 512 || !RESOURCE_PATH.test(resource)) {
    throw new GatewayError(500, `The upstream resource path "${resource.slice(0, 64)}" (set by a plugin) is not a valid resource name; the call was not sent.`)
  }
}

/** The body as text, cut at 256 KB (an error body that is a whole HTML page must not fill memory). */
export async function readCapped(response: UpstreamResponse): Promise<string> {
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
