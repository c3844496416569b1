import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { definePlugin, type PluginFactory } from '../../core/index.ts'

/**
 * A local image host, and the 'uploader' service backed by it as an uploader plugin provides it, for the plugins that
 * upload images (image-chat, image-generation). Each upload answers a URL named after the bytes' digest. The host can
 * fail every upload, or hold uploads until `open()`, so a test can show what waits for what.
 */
export interface UploadHost {
  /** The URL the host gives an image (base64). */
  url(base64: string): string
  /** Every upload received, in order. */
  uploads: { mimeType: string; digest: string }[]
  mode: 'ok' | 'fail' | 'hold'
  /** Uploads that arrived and are not answered yet (hold mode). */
  waiting(): number
  /** Answers the held uploads. */
  open(): void
  /** A plugin providing the 'uploader' service that uploads here. */
  plugin: PluginFactory<any>
  close(): Promise<void>
}

const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').slice(0, 16)

export async function startUploadHost(): Promise<UploadHost> {
  const held: (() => void)[] = []
  const server = createServer((req, res) => {
    const pieces: Buffer[] = []
    req.on('data', (piece: Buffer) => pieces.push(piece))
    req.on('end', () => {
      const bytes = Buffer.concat(pieces)
      host.uploads.push({ mimeType: String(req.headers['content-type']), digest: digest(bytes) })
      const answer = () => {
        if (host.mode === 'fail') res.writeHead(500).end('disk full')
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: `${origin}/images/${digest(bytes)}.png` }))
      }
      if (host.mode === 'hold') held.push(answer)
      else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const uploader = {
    async upload(bytes: Uint8Array, mimeType: string, signal?: AbortSignal): Promise<string> {
      const res = await fetch(`${origin}/upload`, { method: 'POST', body: Buffer.from(bytes), headers: { 'content-type': mimeType }, signal })
      if (!res.ok) throw new Error(`image host answered ${res.status}: ${await res.text()}`)
      return ((await res.json()) as { url: string }).url
    },
  }
  const host: UploadHost = {
    url: (base64) => `${origin}/images/${digest(Buffer.from(base64, 'base64'))}.png`,
    uploads: [],
    mode: 'ok',
    waiting: () => held.length,
    open: () => held.splice(0).forEach((answer) => answer()),
    plugin: definePlugin({
      name: 'test-uploader',
      summary: 'test: uploads images to a local host',
      setup(_options, ctx) {
        ctx.services.provide('uploader', uploader, 'test-uploader')
        return {}
      },
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  return host
}
