// Observability of the gateway: GET /metrics (Prometheus, behind METRICS_TOKEN) and the Server-Timing header of every
// answer. One Metrics lives as long as the gateway process; each generation registers the route while the token is set.
import type { EventHandler, H3 } from 'h3'
import type { GatewayDatabase } from '../storage/index.ts'
import type { Instruments, ScrapeSources } from './metrics/instruments.ts'
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
  /**
   * The handler of GET /metrics for METRICS_TOKEN `token`. The first call loads the instruments (prom-client, ~10 MB
   * of a process's memory): a gateway that never serves metrics never loads them. Requests are counted from then on.
   */
  handler(token: string): Promise<EventHandler<Response>>
}

export function createMetrics({ enabled, ...sources }: MetricsOptions): Metrics {
  let instruments: Instruments | undefined
  const observer = new RequestObserver(
    () => instruments!,
    () => instruments !== undefined && enabled(),
  )
  // The process series start at the first scrape, not before: nobody reads them until then.
  let loading: Promise<{ registry: Instruments['registry']; scraped(): void }> | undefined
  const load = async () => {
    const { createInstruments, startProcessMetrics } = await import('./metrics/instruments.ts')
    instruments = createInstruments({ ...sources, inFlight: () => observer.inFlight() })
    const registry = instruments.registry
    let started = false
    const scraped = () => {
      if (!started) startProcessMetrics(registry)
      started = true
    }
    return { registry, scraped }
  }
  return {
    serve: (request, app) => observer.serve(request, app),
    async handler(token) {
      const { registry, scraped } = await (loading ??= load())
      return metricsHandler(registry, token, scraped)
    },
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
