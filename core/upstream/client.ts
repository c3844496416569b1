import { Agent, ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici'

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  headers: Record<string, string>
  body?: string
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
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  return process.versions.bun ? createFetchClient(options) : createUndiciClient(options)
}

function createUndiciClient({ timeoutMs }: UpstreamClientOptions): UpstreamClient {
  const timeouts = { headersTimeout: timeoutMs, bodyTimeout: timeoutMs }
  const direct = new Agent({ ...timeouts, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 })
  const proxied = new Map<string, Dispatcher>()

  const dispatcherFor = (proxy: string | undefined): Dispatcher => {
    if (!proxy) return direct
    let agent = proxied.get(proxy)
    if (!agent) {
      const url = new URL(proxy)
      agent = url.protocol.startsWith('socks')
        ? new Socks5ProxyAgent(proxy.replace(/^socks5h:/, 'socks5:'), { ...timeouts } as never)
        : new ProxyAgent({ uri: proxy, ...timeouts })
      proxied.set(proxy, agent)
    }
    return agent
  }

  return {
    async send(request) {
      const url = new URL(request.url)
      const answer = await dispatcherFor(request.proxy).request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
      })
      const body = answer.body
      // A client that leaves mid-stream destroys the body; the error has nowhere to go and must not crash the process.
      body.on('error', () => {})
      return {
        status: answer.statusCode,
        header: (name) => {
          const value = answer.headers[name]
          return Array.isArray(value) ? value.join(', ') : value
        },
        text: () => body.text(),
        chunks: () => body,
        discard: () => body.destroy(),
      }
    },
    async close() {
      await Promise.all([direct.close(), ...[...proxied.values()].map((agent) => agent.close())])
    },
  }
}

function createFetchClient({ timeoutMs }: UpstreamClientOptions): UpstreamClient {
  return {
    async send(request) {
      if (request.proxy?.startsWith('socks')) throw new Error('SOCKS5 proxies are not supported on Bun; use an http(s) proxy')
      // The timeout covers the wait for headers only; a long stream afterwards is fine.
      const timeout = new AbortController()
      const timer = setTimeout(() => timeout.abort(new DOMException('upstream headers timeout', 'TimeoutError')), timeoutMs)
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
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
