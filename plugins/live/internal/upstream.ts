import { WebSocket } from 'ws'
import { isSetupComplete, type Frame } from './protocol.ts'
import { connectThrough } from './tunnel.ts'

/** Why an attempt did not reach `setupComplete`, as the judge and the client need it. */
export type Refusal =
  /** Google (or something in the way) answered the upgrade with an HTTP status instead of 101. */
  | { kind: 'http'; status: number; body: string; retryAfter?: string }
  /** The socket opened and was closed before `setupComplete`, with this close frame. */
  | { kind: 'close'; code: number; reason: string }
  /** No answer: connection refused, TLS, DNS, timeout, a connection cut without a close frame. */
  | { kind: 'transport'; code: string; message: string }
  /** The client left while the attempt was under way. */
  | { kind: 'cancelled' }

export interface UpstreamHandlers {
  message(frame: Frame): void
  close(code: number, reason: string): void
}

/** An upstream session that answered the setup: frames go both ways once `attach` gave it somewhere to deliver. */
export interface LiveUpstream {
  /** Delivers the frames that came while nobody listened (`setupComplete` first), then every later one as it comes. */
  attach(handlers: UpstreamHandlers): void
  send(frame: Frame): void
  close(code?: number, reason?: string): void
  terminate(): void
}

export interface OpenOptions {
  url: string
  /** CUSTOM_HEADERS and the key. */
  headers: Record<string, string>
  proxy?: string
  /** The client's setup message, sent as it came. */
  setup: Frame
  /** TIME_OUT: for the upgrade and the wait for `setupComplete`. */
  timeoutMs: number
  /** The client left: the attempt is abandoned. */
  signal: AbortSignal
  /** Puts the key's label where Google's words name the key: nothing of them goes anywhere unmasked. */
  mask(text: string): string
}

const ERROR_BODY_MAX = 64 * 1024

/**
 * Opens Google's Live endpoint with one key and sends the client's setup; resolves once Google answered it with
 * `setupComplete`, or with why not. `ws` rather than a WHATWG WebSocket: only it shows the status and body of a
 * refused upgrade, which the judge needs to tell an exhausted quota (429) from a dead key (400 API_KEY_INVALID).
 */
export function openLive(options: OpenOptions): Promise<{ upstream: LiveUpstream } | { refusal: Refusal }> {
  return new Promise((resolve) => {
    if (options.signal.aborted) return resolve({ refusal: { kind: 'cancelled' } })
    const unsupported = options.proxy && proxyUnsupported(options.proxy)
    if (unsupported) return resolve({ refusal: { kind: 'transport', code: 'PROXY_UNSUPPORTED', message: unsupported } })

    const socket = new WebSocket(options.url, {
      headers: options.headers,
      handshakeTimeout: options.timeoutMs,
      ...(options.proxy ? { createConnection: connectThrough(options.proxy, options.timeoutMs) as never } : {}),
    })
    // What came before the session took over (Google may send something ahead of setupComplete; frames can follow it
    // within the same tick): delivered in order on attach.
    const early: Frame[] = []
    let handlers: UpstreamHandlers | undefined
    let settled = false

    const settle = (result: { upstream: LiveUpstream } | { refusal: Refusal }) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal.removeEventListener('abort', onAbort)
      if ('refusal' in result) socket.terminate()
      resolve(result)
    }
    const onAbort = () => settle({ refusal: { kind: 'cancelled' } })
    options.signal.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(
      () => settle({ refusal: { kind: 'transport', code: 'TimeoutError', message: `no setupComplete within ${options.timeoutMs / 1000}s` } }),
      options.timeoutMs,
    )

    const upstream: LiveUpstream = {
      attach(next) {
        handlers = next
        for (const frame of early.splice(0)) next.message(frame)
      },
      send: (frame) => socket.send(frame),
      close: (code, reason) => socket.close(code, reason),
      terminate: () => socket.terminate(),
    }

    socket.on('unexpected-response', (request, response) => {
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        if (size < ERROR_BODY_MAX) chunks.push(chunk)
        size += chunk.length
      })
      const done = () => {
        const retryAfter = response.headers['retry-after']
        settle({
          refusal: {
            kind: 'http',
            status: response.statusCode ?? 0,
            body: options.mask(Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_MAX)),
            retryAfter,
          },
        })
        request.destroy()
      }
      response.once('end', done)
      response.once('error', done)
    })
    socket.on('open', () => socket.send(options.setup))
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      // Text stays text and bytes stay bytes, so the client gets the frame type Google sent.
      const frame: Frame = isBinary ? data : data.toString('utf8')
      if (!settled && isSetupComplete(frame)) settle({ upstream })
      if (handlers) handlers.message(frame)
      else early.push(frame)
    })
    socket.on('close', (code: number, reason: Buffer) => {
      const words = options.mask(reason.toString('utf8'))
      if (!settled) {
        settle({
          refusal:
            code === 1006
              ? { kind: 'transport', code: 'WS_CLOSED', message: 'connection closed without a close frame' }
              : { kind: 'close', code, reason: words },
        })
        return
      }
      handlers?.close(code, words)
    })
    socket.on('error', (error: Error & { code?: string }) => {
      settle({ refusal: { kind: 'transport', code: error.code ?? (/timed out/i.test(error.message) ? 'TimeoutError' : 'WS_ERROR'), message: error.message } })
    })
  })
}

/** Why the Live API cannot go through this proxy here, or undefined when it can. */
function proxyUnsupported(proxy: string): string | undefined {
  if (process.versions.bun) return 'the Live API does not go through PROXIES on Bun (its WebSocket client takes no tunnel); run on Node'
  if (!/^https?:/i.test(proxy)) return 'the Live API goes through http(s) proxies only (CONNECT), not SOCKS'
  return undefined
}
