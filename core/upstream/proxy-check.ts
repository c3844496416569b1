import { GatewayError } from '../errors.ts'
import { createUpstreamClient, type UpstreamResponse } from './client.ts'
import type { ProxyCheckResult } from '../views.ts'

export type { ProxyCheckResult } from '../views.ts'

export interface ProxyCheck {
  /** PROXIES as they are now, credentials masked. */
  list(): string[]
  /** Checks the proxies at these indexes (default: all); an index that names no proxy is a 400 GatewayError. */
  check(indexes?: readonly number[]): Promise<ProxyCheckResult[]>
}

export interface ProxyCheckOptions {
  /** PROXIES, as they are at each call (a settings reload may change them). */
  proxies: () => readonly string[]
  /** What to ask for through each proxy: the origin of BASE_URL. */
  target: () => string
  /** The longest a check waits for its answer, connecting included. */
  timeoutMs?: number
}

/** Proxies checked at once: a long list never opens more connections than this. */
const CONCURRENCY = 5

/**
 * Asks the target for its root through each proxy, on the same upstream client the gateway's requests use (so http,
 * https and socks5 proxies behave as they do for real requests), and measures how long the answer took. Nothing
 * secret is sent: no key, no custom header.
 */
export function createProxyCheck({ proxies, target, timeoutMs = 10_000 }: ProxyCheckOptions): ProxyCheck {
  return {
    list: () => proxies().map(maskProxyUrl),
    async check(indexes) {
      const all = proxies()
      const wanted = indexes ? [...new Set(indexes)] : all.map((_, index) => index)
      const bad = wanted.find((index) => !Number.isInteger(index) || index < 0 || index >= all.length)
      if (bad !== undefined) throw new GatewayError(400, `No proxy has index ${bad}: there ${all.length === 1 ? 'is 1' : `are ${all.length}`}.`)
      if (wanted.length === 0) return []
      // A client of its own, closed afterwards: each check opens a new connection, as a first request would.
      const client = await createUpstreamClient({ timeoutMs })
      const url = target()
      const results: ProxyCheckResult[] = []
      const queue = [...wanted]
      const worker = async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
          const proxy = all[index]!
          const masked = maskProxyUrl(proxy)
          const started = performance.now()
          try {
            const response = await answerWithin(client.send({ method: 'GET', url, headers: {}, proxy, signal: AbortSignal.timeout(timeoutMs) }), timeoutMs)
            const latencyMs = Math.round(performance.now() - started)
            response.discard()
            results.push({ index, proxy: masked, ok: true, latencyMs, status: response.status, checkedAt: Date.now() })
          } catch (error) {
            results.push({ index, proxy: masked, ok: false, latencyMs: null, error: describeFailure(error, proxy, timeoutMs), checkedAt: Date.now() })
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, wanted.length) }, worker))
      // Not awaited: closing waits for every call to end, and a proxy that never answers its CONNECT holds one.
      void client.close().catch(() => {})
      return results.sort((a, b) => a.index - b.index)
    },
  }
}

/**
 * The call's own signal cannot end a tunnel that is still being set up (undici hands a request its abort only once
 * connected), so the wait is bounded here too; an answer that comes later is dropped unread.
 */
function answerWithin(call: Promise<UpstreamResponse>, timeoutMs: number): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'))
      void call.then(
        (late) => late.discard(),
        () => {},
      )
    }, timeoutMs)
    call.then(
      (response) => {
        clearTimeout(timer)
        resolve(response)
      },
      (error) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i

/** `http://user:secret@host:8080` → `http://user:****@host:8080`; a user with no password may itself be a token: `http://****@host`. */
export function maskProxyUrl(proxy: string): string {
  return proxy.replace(USERINFO, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    return `${scheme}${colon === -1 ? '****' : `${userinfo.slice(0, colon)}:****`}@`
  })
}

/** The reason in words, with the proxy's credentials masked wherever an error message repeats them. */
function describeFailure(error: unknown, proxy: string, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined
  const message = error instanceof Error ? [error.message, cause?.message].filter(Boolean).join(': ') : String(error)
  const userinfo = USERINFO.exec(proxy)?.[2]
  let safe = message.replaceAll(proxy, maskProxyUrl(proxy))
  for (const part of userinfo ? userinfo.split(':') : []) if (part.length >= 3) safe = safe.replaceAll(part, '****')
  return safe
}
