import { lookup as dnsLookup, promises as dns, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import type { Agent } from 'undici'
import { GatewayError } from '../../errors.ts'
import { mimeFromFileName } from './mime.ts'

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

/** Per-request bounds on the URLs a client's messages make the gateway fetch. */
export interface MediaLimits {
  /** URLs one request may carry; more is refused before anything is fetched. */
  maxUrls: number
  /** What all of one request's media may add up to, in bytes. */
  maxTotalBytes: number
  /** Fetches in flight at once for one request. */
  concurrency: number
}

/** Until the config carries them: 32 URLs, 4 x the 20 MB per-file default, 4 at a time. */
export const DEFAULT_MEDIA_LIMITS: MediaLimits = { maxUrls: 32, maxTotalBytes: 80 * 1048576, concurrency: 4 }

/**
 * Address ranges a client must not make the gateway fetch from: loopback, private, link-local, shared, reserved and
 * multicast IPv4, and the IPv6 ranges that are not public or that carry an IPv4 address inside (NAT64, 6to4, Teredo,
 * IPv4-compatible and IPv4-translated), through which a private IPv4 target could be reached in disguise.
 */
export const PRIVATE_RANGES: readonly (readonly [network: string, prefix: number, family: 'ipv4' | 'ipv6'])[] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  // ::/96 holds the unspecified address, loopback and the deprecated IPv4-compatible form (::a.b.c.d).
  ['::', 96, 'ipv6'],
  ['::ffff:0:0:0', 96, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 32, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['3fff::', 20, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]
// No ::ffff:0:0/96 rule here: BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules, so that rule would
// block every IPv4 address. Mapped addresses are checked against the IPv4 rules instead: the dotted form is unwrapped
// below, the hex form (::ffff:7f00:1) BlockList maps itself. Each rule is tested alone against public IPv4 and IPv6.
const PRIVATE = new BlockList()
for (const [network, prefix, family] of PRIVATE_RANGES) PRIVATE.addSubnet(network, prefix, family)

export function isPrivateAddress(address: string): boolean {
  // A zone (fe80::1%eth0) would make BlockList miss the link-local rule.
  const bare = address.split('%', 1)[0]!
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)
  if (mapped) return isPrivateAddress(mapped[1]!)
  const family = isIP(bare)
  return family === 0 ? true : PRIVATE.check(bare, family === 6 ? 'ipv6' : 'ipv4')
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
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new GatewayError(400, `Media URLs must be http(s) or data: URLs, got ${parsed.protocol}`)
    const literal = parsed.hostname.replace(/^\[|\]$/g, '')
    if (!options.allowPrivate && isIP(literal) && isPrivateAddress(literal)) {
      throw new GatewayError(400, `Refusing to fetch media from a private address (${parsed.hostname}).`)
    }
    const timeout = AbortSignal.timeout(options.timeoutMs)
    let answer: MediaAnswer | undefined
    try {
      answer = await get(parsed, signal ? AbortSignal.any([signal, timeout]) : timeout)
      if (answer.status !== 200) throw new GatewayError(400, `Fetching media ${parsed.host}${parsed.pathname} answered ${answer.status}.`)
      if (answer.declaredLength > options.maxBytes) throw tooLarge(parsed.host, options.maxBytes)
      const pieces: Uint8Array[] = []
      let size = 0
      for await (const piece of answer.body) {
        size += piece.length
        if (size > options.maxBytes) throw tooLarge(parsed.host, options.maxBytes)
        pieces.push(piece)
      }
      return { mimeType: answer.contentType || mimeFromFileName(parsed.pathname) || 'application/octet-stream', data: Buffer.concat(pieces).toString('base64') }
    } catch (error) {
      if (error instanceof GatewayError) throw error
      throw fetchFailure(error, parsed.host, options, { cancelled: signal?.aborted === true, timedOut: timeout.aborted })
    } finally {
      answer?.release()
    }
  }
}

/** Why a fetch failed, in words: the codes (ECONNREFUSED, UND_ERR_SOCKET, a DOMException's 23) mean nothing to a client. */
function fetchFailure(error: unknown, host: string, options: MediaFetchOptions, state: { cancelled: boolean; timedOut: boolean }): GatewayError {
  if (state.cancelled) return new GatewayError(499, `Fetching media from ${host} was cancelled.`, { cause: error })
  // DOMExceptions carry a numeric code (23 for a timeout); their name says more.
  const given = (error as { code?: unknown } | undefined)?.code
  const code = typeof given === 'string' ? given : String((error as Error | undefined)?.name)
  if (state.timedOut || TIMEOUT_CODES.has(code)) {
    return new GatewayError(400, `Fetching media from ${host} timed out after ${options.timeoutMs / 1000} s (MEDIA_FETCH_TIMEOUT).`, { cause: error })
  }
  if (code === 'EPRIVATE') return new GatewayError(400, `Refusing to fetch media from a private address (${host}).`, { cause: error })
  const reason = FAILURE_REASONS.get(code) ?? (/CERT|TLS|SSL/.test(code) ? 'its TLS certificate was not accepted' : `the connection failed (${code})`)
  return new GatewayError(400, `Could not fetch media from ${host}: ${reason}.`, { cause: error })
}

const TIMEOUT_CODES = new Set(['TimeoutError', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

// Node's error codes (Bun's fetch uses the same ones).
const FAILURE_REASONS: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'the connection was refused'],
  ['ENOTFOUND', 'its host name could not be resolved (DNS)'],
  ['EAI_AGAIN', 'its host name could not be resolved (DNS)'],
  ['ECONNRESET', 'the connection was reset'],
  ['UND_ERR_SOCKET', 'the connection closed before the answer was complete'],
  ['EHOSTUNREACH', 'the host is unreachable'],
  ['ENETUNREACH', 'the network is unreachable'],
])

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
    agent ??= import('undici').then(
      ({ Agent }) => new Agent({ connect: { lookup: guardedLookup }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs }),
    )
    const response = await (await agent).request({ origin: url.origin, path: url.pathname + url.search, method: 'GET', signal })
    response.body.on('error', () => {})
    return {
      status: response.statusCode,
      declaredLength: Number(response.headers['content-length'] ?? 0),
      contentType: String(response.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim(),
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

const tooLarge = (host: string, maxBytes: number) => new GatewayError(413, `Media from ${host} is larger than ${formatSize(maxBytes)} (MEDIA_FETCH_MAX_MB).`)

/** `20 MB`, `1.5 MB`, `2 KB`: limits as an operator set them (MB), small ones (tests) still readable. */
export function formatSize(bytes: number): string {
  return bytes >= 1048576 ? `${Math.round((bytes / 1048576) * 10) / 10} MB` : `${Math.ceil(bytes / 1024)} KB`
}

/** `data:<mime>;base64,<data>` → inline data; undefined when the URL is not a base64 data URL. */
export function parseDataUrl(url: string): FetchedMedia | undefined {
  const match = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url)
  if (!match) return undefined
  const mimeType = match[1] === 'image/jpg' ? 'image/jpeg' : (match[1] ?? 'application/octet-stream')
  return { mimeType, data: match[2]! }
}
