import { Agent, Pool, ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici'
import { Readable } from 'node:stream'
import { isStream, type UpstreamClient, type UpstreamClientOptions, type UpstreamResponse } from './client.ts'

/** The Node upstream client: undici's dispatch API over keep-alive pools, one cached agent per proxy URL. */
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
        : // The CONNECT to the proxy runs on a pool of the agent's own, which would wait undici's default 300 s for a
          // proxy that accepts and never answers: TIME_OUT bounds it as it bounds Google's answer.
          new ProxyAgent({ uri: proxy, ...timeouts, clientFactory: (origin, options) => new Pool(origin, { ...options, headersTimeout: timeoutMs }) })
      proxied.set(proxy, agent)
    }
    return agent
  }

  return {
    send(request) {
      const url = new URL(request.url)
      return new Promise((resolve, reject) => {
        const call = new Call(request.signal, resolve, reject)
        try {
          dispatcherFor(request.proxy).dispatch(
            {
              origin: url.origin,
              path: url.pathname + url.search,
              method: request.method,
              headers: request.headers,
              // Pulled as the socket drains: a body of any size passes with only a few chunks in memory.
              body: isStream(request.body) ? Readable.from(request.body, { objectMode: false }) : request.body,
            },
            call,
          )
        } catch (error) {
          reject(error)
        }
      })
    },
    async close() {
      await Promise.all([direct.close(), ...[...proxied.values()].map((agent) => agent.close())])
    },
  }
}

/** Bytes a call keeps for a reader that has not asked for them yet; past this the connection waits (no more reads). */
const HIGH_WATER = 64 * 1024
const utf8 = new TextDecoder()

/**
 * One call to Google on undici's dispatch API, and its answer's body as the gateway reads it: what arrives is queued,
 * and once HIGH_WATER bytes wait the connection is paused until the reader catches up, so a slow reader (a slow
 * client, through the stream's backpressure) holds Google back instead of filling memory. A reader gets everything
 * queued at once, a network read or more per step. Lighter than undici's request(), which wraps the same in a
 * Readable stream and an async resource per call.
 */
class Call implements Dispatcher.DispatchHandler, AsyncIterator<Uint8Array>, AsyncIterable<Uint8Array> {
  #controller: Dispatcher.DispatchController | undefined
  #signal: AbortSignal | undefined
  #onAbort: (() => void) | undefined
  #resolve: ((response: UpstreamResponse) => void) | undefined
  #reject: (error: unknown) => void
  #queue: Buffer[] = []
  #queued = 0
  #ended = false
  #error: Error | undefined
  #wake: (() => void) | undefined

  constructor(signal: AbortSignal | undefined, resolve: (response: UpstreamResponse) => void, reject: (error: unknown) => void) {
    this.#signal = signal
    this.#resolve = resolve
    this.#reject = reject
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    const signal = this.#signal
    if (!signal) return
    if (signal.aborted) return controller.abort(signal.reason)
    this.#onAbort = () => controller.abort(signal.reason)
    signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200) return
    const resolve = this.#resolve
    this.#resolve = undefined
    resolve?.({
      status,
      header: (name) => {
        const value = headers[name]
        return Array.isArray(value) ? value.join(', ') : value
      },
      text: () => this.#text(),
      chunks: () => this,
      discard: () => void this.return(),
    })
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#queue.push(chunk)
    this.#queued += chunk.length
    if (this.#queued >= HIGH_WATER) controller.pause()
    this.#wakeReader()
  }

  onResponseEnd(): void {
    this.#ended = true
    this.#settle()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#error = error
    this.#settle()
    // Before the answer began, the call itself failed.
    if (this.#resolve) this.#reject(error)
    this.#resolve = undefined
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      if (this.#queue.length > 0) {
        const value = this.#queue.length === 1 ? this.#queue[0]! : Buffer.concat(this.#queue)
        this.#queue = []
        this.#queued = 0
        if (this.#controller?.paused) this.#controller.resume()
        return { value, done: false }
      }
      if (this.#error) throw this.#error
      if (this.#ended) return { value: undefined, done: true }
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }

  /** The reader stopped early: the rest of the answer is not wanted, and the connection cannot be reused. */
  async return(): Promise<IteratorResult<Uint8Array>> {
    this.#queue = []
    if (!this.#ended && !this.#error) this.#controller?.abort(new Error('the answer was discarded'))
    return { value: undefined, done: true }
  }

  async #text(): Promise<string> {
    const pieces: Uint8Array[] = []
    for await (const piece of this) pieces.push(piece)
    return utf8.decode(pieces.length === 1 ? pieces[0] : Buffer.concat(pieces))
  }

  #settle(): void {
    if (this.#onAbort) this.#signal!.removeEventListener('abort', this.#onAbort)
    this.#onAbort = undefined
    this.#wakeReader()
  }

  #wakeReader(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
