import { lookup as dnsLookup, promises as dns, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import type { Agent } from 'undici'
import { GatewayError } from '../../errors.ts'

export interface MediaFetchOptions {
  timeoutMs: number
  maxBytes: number
  /** Allow loopback, private and link-local targets (off by default: the gateway must not become an SSRF relay). */
  allowPrivate: boolean
}

export interface FetchedMedia {
  mimeType: string
  /** base64 */
  data: string
}

/** Addresses a client must not make the gateway fetch from. */
const PRIVATE = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4')
// No ::ffff:0:0/96 rule here: BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules, so that rule would
// block every IPv4 address. Mapped addresses are unwrapped and checked as IPv4 instead.
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6')

export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return isPrivateAddress(mapped[1]!)
  const family = isIP(address)
  return family === 0 ? true : PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

/**
 * Fetches an image/audio/file URL a client put in a message. The check happens on the address actually
 * connected to (inside DNS lookup), so a hostname that resolves to 127.0.0.1 or re-resolves later is refused
 * too; redirects are not followed; size and time are capped.
 */
export function createMediaFetcher(options: MediaFetchOptions): (url: string, signal?: AbortSignal) => Promise<FetchedMedia> {
  const get = process.versions.bun ? bunGetter(options) : undiciGetter(options)
  return async (url, signal) => {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new GatewayError(400, `Invalid media URL: ${url.slice(0, 100)}`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new GatewayError(400, `Media URLs must be http(s) or data: URLs, got ${parsed.protocol}`)
    const literal = parsed.hostname.replace(/^\[|\]$/g, '')
    if (!options.allowPrivate && isIP(literal) && isPrivateAddress(literal)) {
      throw new GatewayError(400, `Refusing to fetch media from a private address (${parsed.hostname}).`)
    }
    const timeout = AbortSignal.timeout(options.timeoutMs)
    let answer: MediaAnswer | undefined
    try {
      answer = await get(parsed, signal ? AbortSignal.any([signal, timeout]) : timeout)
      if (answer.status !== 200) throw new GatewayError(400, `Fetching media ${parsed.host}${parsed.pathname} answered ${answer.status}.`)
      if (answer.declaredLength > options.maxBytes) throw tooLarge(options.maxBytes)
      const pieces: Uint8Array[] = []
      let size = 0
      for await (const piece of answer.body) {
        size += piece.length
        if (size > options.maxBytes) throw tooLarge(options.maxBytes)
        pieces.push(piece)
      }
      return { mimeType: answer.contentType || guessMime(parsed.pathname), data: Buffer.concat(pieces).toString('base64') }
    } catch (error) {
      if (error instanceof GatewayError) throw error
      const code = (error as { code?: string }).code ?? (error as Error).name
      if (code === 'EPRIVATE') throw new GatewayError(400, `Refusing to fetch media from a private address (${parsed.hostname}).`)
      throw new GatewayError(400, `Could not fetch media from ${parsed.host}: ${code}.`)
    } finally {
      answer?.release()
    }
  }
}

interface MediaAnswer {
  status: number
  declaredLength: number
  contentType: string
  body: AsyncIterable<Uint8Array>
  /** Frees the connection whether or not the body was read to the end. */
  release(): void
}

type Getter = (url: URL, signal: AbortSignal) => Promise<MediaAnswer>

/** Node: the address check runs inside DNS lookup, on the address actually connected to (no rebinding window). */
function undiciGetter(options: MediaFetchOptions): Getter {
  let agent: Promise<Agent> | undefined
  const guardedLookup = (hostname: string, lookupOptions: object, callback: (...args: any[]) => void) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0)
      const list = addresses as LookupAddress[]
      const allowed = options.allowPrivate ? list : list.filter((a) => !isPrivateAddress(a.address))
      if (allowed.length === 0) return callback(Object.assign(new Error(`refusing to fetch from private address of ${hostname}`), { code: 'EPRIVATE' }), '', 0)
      if ((lookupOptions as { all?: boolean }).all) return callback(null, allowed)
      callback(null, allowed[0]!.address, allowed[0]!.family)
    })
  }
  return async (url, signal) => {
    agent ??= import('undici').then(({ Agent }) => new Agent({ connect: { lookup: guardedLookup }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs }))
    const response = await (await agent).request({ origin: url.origin, path: url.pathname + url.search, method: 'GET', signal })
    response.body.on('error', () => {})
    return {
      status: response.statusCode,
      declaredLength: Number(response.headers['content-length'] ?? 0),
      contentType: String(response.headers['content-type'] ?? '').split(';')[0]!.trim(),
      body: response.body,
      release: () => response.body.destroy(),
    }
  }
}

/** Bun: no lookup hook in fetch, so the name is resolved and checked first (a rebinding window remains; noted in the README). */
function bunGetter(options: MediaFetchOptions): Getter {
  return async (url, signal) => {
    if (!options.allowPrivate && !isIP(url.hostname)) {
      const addresses = await dns.lookup(url.hostname, { all: true })
      if (addresses.every((a) => isPrivateAddress(a.address))) throw Object.assign(new Error('private'), { code: 'EPRIVATE' })
    }
    const response = await fetch(url, { signal, redirect: 'manual' })
    return {
      status: response.status,
      declaredLength: Number(response.headers.get('content-length') ?? 0),
      contentType: (response.headers.get('content-type') ?? '').split(';')[0]!.trim(),
      body: response.body ?? emptyBody(),
      release: () => void response.body?.cancel().catch(() => {}),
    }
  }
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

const tooLarge = (maxBytes: number) => new GatewayError(413, `Media is larger than ${Math.round(maxBytes / 1048576)} MB (MEDIA_FETCH_MAX_MB).`)

const EXTENSIONS: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic',
  mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', flac: 'audio/flac', pdf: 'application/pdf', mp4: 'video/mp4',
}

function guessMime(path: string): string {
  return EXTENSIONS[path.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream'
}

/** `data:<mime>;base64,<data>` → inline data; undefined when the URL is not a base64 data URL. */
export function parseDataUrl(url: string): FetchedMedia | undefined {
  const match = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url)
  if (!match) return undefined
  const mimeType = match[1] === 'image/jpg' ? 'image/jpeg' : (match[1] ?? 'application/octet-stream')
  return { mimeType, data: match[2]! }
}
