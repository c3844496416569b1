// Test helpers shared by the uploader plugins' tests: a loopback HTTP server a test turns into a fake of one image
// host's API, and what the gateway logs.

import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { vi } from 'vitest'

/** One request the fake received, its multipart body parsed. */
export interface Received {
  method: string
  /** Path and query as sent, on the fake's origin. */
  url: URL
  headers: IncomingHttpHeaders
  form: FormData | undefined
}

/** An answer: status and a JSON or text body; `reset` drops the connection, `hold` never answers. */
export type Reply = { status?: number; json?: unknown; text?: string } | 'reset' | 'hold'

export interface FakeHost {
  origin: string
  received: Received[]
  /** Replies that take precedence over the service's own, one per request, in order. */
  script: Reply[]
  clear(): void
  close(): Promise<void>
}

/** A loopback server answering each request with `serve` (the service's rules), unless `script` says otherwise. */
export async function startFakeHost(serve: (request: Received) => Reply | Promise<Reply>): Promise<FakeHost> {
  const server = createServer((req, res) => {
    const pieces: Buffer[] = []
    req.on('data', (piece: Buffer) => pieces.push(piece))
    req.on('end', async () => {
      const body = Buffer.concat(pieces)
      const type = req.headers['content-type'] ?? ''
      const form = type.startsWith('multipart/form-data') ? await new Response(body, { headers: { 'content-type': type } }).formData() : undefined
      const request: Received = { method: req.method ?? '', url: new URL(req.url ?? '/', host.origin), headers: req.headers, form }
      host.received.push(request)
      const reply = host.script.shift() ?? (await serve(request))
      if (reply === 'reset') return void req.socket.destroy()
      if (reply === 'hold') return
      if (reply.json !== undefined) res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json))
      else res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain;charset=UTF-8' }).end(reply.text ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host: FakeHost = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: [],
    script: [],
    clear() {
      host.received.length = 0
      host.script.length = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections() // held answers too
        server.close(() => resolve())
      }),
  }
  return host
}

/** The file a request carried in `field`. */
export function fileIn(request: Received, field: string): File | undefined {
  const value = request.form?.get(field)
  return value instanceof File ? value : undefined
}

/**
 * What the process prints from now on, one entry per line, passed through as usual: the gateway logs there (with a
 * LOG_LEVEL that lets the lines through). Restored after the test by `vi.restoreAllMocks()`.
 */
export function captureOutput(): { lines(): string[] } {
  let text = ''
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream)
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: never[]) => {
      text += String(chunk)
      return write(chunk as string, ...rest)
    }) as typeof stream.write)
  }
  return { lines: () => text.split('\n').filter((line) => line.trim() !== '') }
}
