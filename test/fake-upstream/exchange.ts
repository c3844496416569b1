// One request/response pair: abortable waits, Google's response headers, streaming, socket resets.

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

export const JSON_TYPE = 'application/json; charset=UTF-8'
export const SSE_TYPE = 'text/event-stream'

/** How an answer to this request is framed. */
export type Framing =
  | 'unary' // pretty JSON body
  | 'sse' // streamGenerateContent?alt=sse
  | 'json-array' // streamGenerateContent without alt=sse
  | 'openai' // /v1beta/openai/*, not streaming
  | 'openai-sse' // /v1beta/openai/*, "stream": true

export class Exchange {
  /** The response closed (finished, or the client/server dropped the connection). */
  closed = false
  /** 'reset-mid-stream': cut the connection after the first chunk / half the body. */
  cut = false
  framing: Framing = 'unary'
  private timer: NodeJS.Timeout | undefined
  private wake: ((alive: boolean) => void) | undefined

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly started: number,
  ) {
    res.on('close', () => {
      this.closed = true
      if (this.timer !== undefined) clearTimeout(this.timer)
      const wake = this.wake
      this.wake = this.timer = undefined
      wake?.(false)
    })
  }

  get streaming(): boolean {
    return this.framing === 'sse' || this.framing === 'json-array' || this.framing === 'openai-sse'
  }

  /** Sleep; resolves false (early) when the connection closes. */
  wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false)
    if (!(ms > 0)) return Promise.resolve(true)
    return new Promise((resolve) => {
      this.wake = resolve
      this.timer = setTimeout(() => {
        this.wake = this.timer = undefined
        resolve(!this.closed)
      }, ms)
    })
  }

  /** The header set Google sends on every response (§0), plus `extra`. */
  headers(contentType: string, extra?: Record<string, string>): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {
      'Content-Type': contentType,
      Vary: ['Origin', 'X-Origin', 'Referer'],
      Server: 'scaffolding on HTTPServer2',
      'Server-Timing': `gfet4t7; dur=${Math.round(performance.now() - this.started)}`,
      'X-XSS-Protection': '0',
      'X-Frame-Options': 'SAMEORIGIN',
      'X-Content-Type-Options': 'nosniff',
      'Alt-Svc': 'h3=":443"; ma=2592000,h3-29=":443"; ma=2592000',
    }
    if (contentType === SSE_TYPE) headers['Content-Disposition'] = 'attachment'
    if (extra !== undefined) for (const [name, value] of Object.entries(extra)) setHeader(headers, name, value)
    return headers
  }

  /** A complete body with Content-Length. With `cut`, only the first half is written, then the socket is destroyed. */
  send(status: number, headers: OutgoingHttpHeaders, body: string): void {
    if (this.closed) return
    const bytes = Buffer.from(body)
    headers['Content-Length'] = String(bytes.length)
    this.res.writeHead(status, headers)
    if (this.cut) this.writeThenDestroy(bytes.subarray(0, Math.floor(bytes.length / 2)))
    else this.res.end(bytes)
  }

  /**
   * A streamed body: `frame(i)` for i < count, `intervalMs` apart, then `tail`. With `cut`, the
   * connection is destroyed right after the first frame (or right after the headers when count is 0).
   */
  async stream(status: number, headers: OutgoingHttpHeaders, count: number, frame: (i: number) => string, tail: string, intervalMs: number): Promise<void> {
    if (this.closed) return
    this.res.writeHead(status, headers)
    if (this.cut && count === 0) {
      this.res.flushHeaders()
      this.writeThenDestroy('')
      return
    }
    for (let i = 0; i < count; i++) {
      if (i > 0 && !(await this.wait(intervalMs))) return
      if (this.closed) return
      if (this.cut) {
        this.writeThenDestroy(frame(i))
        return
      }
      this.res.write(frame(i))
    }
    if (!this.closed) this.res.end(tail)
  }

  /** 'reset-before-headers': drop the connection without sending a byte. */
  reset(): void {
    const socket = this.req.socket as Socket & { resetAndDestroy?: () => void }
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
    else socket.destroy()
  }

  private writeThenDestroy(data: string | Buffer): void {
    const destroy = () => setTimeout(() => this.req.socket.destroy(), 5)
    if (data.length === 0) destroy()
    else this.res.write(data, destroy)
  }
}

function setHeader(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const lower = name.toLowerCase()
  for (const existing of Object.keys(headers)) if (existing.toLowerCase() === lower) delete headers[existing]
  headers[name] = value
}
