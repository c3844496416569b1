export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  headers: Record<string, string>
  /** An iterable body streams: read as the connection takes it, never held whole (upload bytes). */
  body?: string | Uint8Array | AsyncIterable<Uint8Array>
  /** Aborts the call at once (client gone). */
  signal?: AbortSignal
  /** Outbound proxy URL (http, https or socks5). */
  proxy?: string
}

export interface UpstreamResponse {
  status: number
  header(name: string): string | undefined
  /** The whole body as text. */
  text(): Promise<string>
  /** The body bytes as they arrive; iterate once. */
  chunks(): AsyncIterable<Uint8Array>
  /** Drops the body and frees the connection. */
  discard(): void
}

export interface UpstreamClient {
  send(request: UpstreamRequest): Promise<UpstreamResponse>
  close(): Promise<void>
}

export interface UpstreamClientOptions {
  /** TIME_OUT: the longest wait for response headers, and for each next piece of the body. */
  timeoutMs: number
}

/**
 * The hop to Google. On Node: undici's dispatcher API over keep-alive pools, one pool per origin (several times
 * faster than fetch), with one cached proxy agent per proxy URL. On Bun, whose bundled undici ignores proxy
 * agents, Bun's own fetch with its `proxy` option.
 */
export async function createUpstreamClient(options: UpstreamClientOptions): Promise<UpstreamClient> {
  if (process.versions.bun) return createFetchClient(options)
  // Loaded only on Node: Bun's built-in `undici` lacks the proxy agents, and importing them there fails.
  const { createUndiciClient } = await import('./undici-client.ts')
  return createUndiciClient(options)
}

function createFetchClient({ timeoutMs }: UpstreamClientOptions): UpstreamClient {
  return {
    async send(request) {
      if (request.proxy?.startsWith('socks')) throw new Error('SOCKS5 proxies are not supported on Bun; use an http(s) proxy')
      // The timeout covers the wait for headers only; a long stream afterwards is fine.
      const timeout = new AbortController()
      const timer = setTimeout(() => timeout.abort(new DOMException('upstream headers timeout', 'TimeoutError')), timeoutMs)
      const body = request.body
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        // An iterable body streams (Bun's fetch takes one as it is).
        body: body as BodyInit | undefined,
        ...(isStream(body) ? { duplex: 'half' } : {}),
        signal: request.signal ? AbortSignal.any([request.signal, timeout.signal]) : timeout.signal,
        // Bun-only option; Node's fetch is never used here.
        ...({ proxy: request.proxy } as object),
      }).finally(() => clearTimeout(timer))
      return {
        status: response.status,
        header: (name) => response.headers.get(name) ?? undefined,
        text: () => response.text(),
        chunks: () => response.body ?? emptyBody(),
        discard: () => void response.body?.cancel().catch(() => {}),
      }
    },
    async close() {},
  }
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

export function isStream(body: UpstreamRequest['body']): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && Symbol.asyncIterator in body
}
