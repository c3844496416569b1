import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import type { Duplex } from 'node:stream'

type Created = (error: Error | null, socket?: Duplex) => void

/** The options node:http hands a `createConnection` (those the tunnel needs). */
interface ConnectionOptions {
  host?: string | null
  port?: number | string | null
  servername?: string
  protocol?: string | null
  defaultPort?: number
}

/**
 * A `createConnection` for `ws` that reaches the target through an HTTP(S) proxy's CONNECT tunnel, as the gateway's
 * HTTP calls go through PROXIES: TLS to the target runs inside the tunnel, so the proxy sees only the host name.
 * Proxy credentials in the URL (`http://user:pass@proxy:3128`) go as Proxy-Authorization.
 */
export function connectThrough(proxy: string, timeoutMs: number): (options: ConnectionOptions, created: Created) => undefined {
  const url = new URL(proxy)
  const auth = url.username ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : undefined
  return (options, created) => {
    const secure = options.protocol === 'https:' || options.defaultPort === 443
    const host = String(options.host ?? '')
    const target = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? (secure ? 443 : 80)}`
    const connect = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      host: url.hostname,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(auth ? { 'proxy-authorization': auth } : {}) },
      timeout: timeoutMs,
    })
    connect.once('connect', (response: IncomingMessage, socket: Socket) => {
      if (response.statusCode !== 200) {
        socket.destroy()
        created(Object.assign(new Error(`proxy refused the tunnel: HTTP ${response.statusCode}`), { code: 'EPROXYREFUSED' }))
        return
      }
      created(null, secure ? tlsConnect({ socket, servername: options.servername || host }) : socket)
    })
    connect.once('timeout', () => connect.destroy(Object.assign(new Error('proxy did not answer in time'), { code: 'ETIMEDOUT' })))
    connect.once('error', (error) => created(error))
    connect.end()
    return undefined
  }
}
