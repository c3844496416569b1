import { Agent, ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici'
import type { UpstreamClient, UpstreamClientOptions } from './client.ts'

/** The Node upstream client: undici's dispatcher API over keep-alive pools, one cached agent per proxy URL. */
export function createUndiciClient({ timeoutMs }: UpstreamClientOptions): UpstreamClient {
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
