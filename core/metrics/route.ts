// GET /metrics: the Prometheus text format, for a scraper that presents METRICS_TOKEN as a Bearer token.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { EventHandler } from 'h3'
import type { Registry } from 'prom-client'
import { FastResponse } from 'srvx'

/**
 * The handler of GET /metrics under `token`. It is registered only while METRICS_TOKEN is set (without it the path
 * is a 404 like any other); a missing or wrong token gets 401. `scraped` runs before each answer.
 */
export function metricsHandler(registry: Registry, token: string, scraped: () => void): EventHandler<Response> {
  const expected = digest(token)
  return async (event) => {
    const given = /^Bearer\s+(\S+)\s*$/i.exec(event.req.headers.get('authorization') ?? '')?.[1]
    // Digests of equal length: the comparison takes as long whatever the caller sent.
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      return new FastResponse('Unauthorized: send METRICS_TOKEN as "Authorization: Bearer <token>".\n', {
        status: 401,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' },
      })
    }
    scraped()
    return new FastResponse(await registry.metrics(), { headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' } })
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest()
