// Observability of the gateway: GET /metrics (Prometheus, behind METRICS_TOKEN) and the Server-Timing header of every
// answer. One Metrics lives as long as the gateway process; each generation registers the route while the token is set.
import type { EventHandler, H3 } from 'h3'
import type { GatewayDatabase } from '../storage/index.ts'
import { createInstruments, startProcessMetrics, type ScrapeSources } from './metrics/instruments.ts'
import { RequestObserver } from './metrics/observe.ts'
import { metricsHandler } from './metrics/route.ts'

export { observeRequest } from './metrics/observe.ts'

export interface MetricsOptions extends Omit<ScrapeSources, 'inFlight'> {
  /** Whether requests are counted now: while METRICS_TOKEN is set. Off, a request costs only its Server-Timing. */
  enabled(): boolean
}

export interface Metrics {
  /** Answers `request` with `app`: what the server's fetch calls. Every answer gets its Server-Timing header here. */
  serve(request: Request, app: H3): Response | Promise<Response>
  /** The handler of GET /metrics for METRICS_TOKEN `token`. */
  handler(token: string): EventHandler<Response>
}

export function createMetrics({ enabled, ...sources }: MetricsOptions): Metrics {
  // Read at scrape only, once the observer exists.
  const instruments = createInstruments({ ...sources, inFlight: () => observer.inFlight() })
  const observer = new RequestObserver(instruments, enabled)
  let started = false
  const scraped = () => {
    if (started) return
    started = true
    startProcessMetrics(instruments.registry)
  }
  return {
    serve: (request, app) => observer.serve(request, app),
    handler: (token) => metricsHandler(instruments.registry, token, scraped),
  }
}

/** Whether the database answers a trivial query. */
export function databaseHealth(database: GatewayDatabase): ScrapeSources['database'] {
  return {
    type: database.dialect,
    up: async () => {
      if (!database.isReady()) return false
      await database.db.exec('SELECT 1')
      return true
    },
  }
}
