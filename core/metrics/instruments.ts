// The series GET /metrics shows. What requests change is counted as they pass (a few counter and histogram
// operations each); what the gateway holds (keys by state, the log queue, the database and Redis) is read at scrape.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client'

/** What is read when Prometheus scrapes, never per request. */
export interface ScrapeSources {
  /** Every key of every pool with its state (the console's view: healthy, cooling or disabled). */
  keys(): Iterable<{ pool: string; state: string }>
  /** The log queue's counts (LogWriter.stats()). */
  logs(): { queued: number; dropped: number }
  /** Whether the database answers now; `type` labels it (sqlite, mysql). */
  database: { type: string; up(): Promise<boolean> }
  /** Whether Redis is connected; absent without REDIS_URL. */
  redis?: () => boolean
  /** Requests and streams being answered now. */
  inFlight(): { requests: number; streams: number }
}

export interface Instruments {
  registry: Registry
  requests: Counter<'route' | 'dialect' | 'model' | 'status' | 'failure_class'>
  upstream: Histogram<'model'>
  overhead: Histogram<'dialect'>
}

/** Seconds Google takes to answer (or to send a stream's first event): from a fast countTokens to a long thinking answer. */
const UPSTREAM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160]
/** Seconds of the gateway's own work on a request: a tenth of a millisecond when all is well. */
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25]

/** A DB that does not answer within this is reported down, so a scrape never hangs on it. */
const DATABASE_PING_MS = 2000

export function createInstruments(sources: ScrapeSources): Instruments {
  const registry = new Registry()
  const register = <T extends Metric>(metric: T): T => {
    registry.registerMetric(metric)
    return metric
  }
  const requests = register(
    new Counter({
      name: 'gemgate_requests_total',
      help: 'Answers sent, by route, dialect, model (known models only, else "other"), HTTP status and failure class of the last upstream attempt.',
      labelNames: ['route', 'dialect', 'model', 'status', 'failure_class'] as const,
      registers: [],
    }),
  )
  const upstream = register(
    new Histogram({
      name: 'gemgate_upstream_duration_seconds',
      help: "Time each upstream attempt took until Google's answer (a stream: until its first event).",
      labelNames: ['model'] as const,
      buckets: UPSTREAM_BUCKETS,
      registers: [],
    }),
  )
  const overhead = register(
    new Histogram({
      name: 'gemgate_gateway_overhead_seconds',
      help: "The gateway's own time on a request that ran the pipeline: time to the answer's headers less the upstream time.",
      labelNames: ['dialect'] as const,
      buckets: OVERHEAD_BUCKETS,
      registers: [],
    }),
  )
  register(
    new Gauge({
      name: 'gemgate_requests_in_flight',
      help: 'Requests being answered now (a stream until its last byte).',
      registers: [],
      collect() {
        this.set(sources.inFlight().requests)
      },
    }),
  )
  register(
    new Gauge({
      name: 'gemgate_streams_in_flight',
      help: 'Streamed answers being sent now.',
      registers: [],
      collect() {
        this.set(sources.inFlight().streams)
      },
    }),
  )
  register(
    new Gauge({
      name: 'gemgate_keys',
      help: 'Keys by pool and state (healthy, cooling: some model cooling down, disabled).',
      labelNames: ['pool', 'state'] as const,
      registers: [],
      collect() {
        const counts = new Map<string, { pool: string; state: string; count: number }>()
        for (const { pool, state } of sources.keys()) {
          const name = `${pool}\n${state}`
          const entry = counts.get(name)
          if (entry) entry.count++
          else counts.set(name, { pool, state, count: 1 })
        }
        // A state no key is in any more reads 0, not its last count.
        this.reset()
        for (const { pool, state, count } of counts.values()) this.set({ pool, state }, count)
      },
    }),
  )
  register(
    new Gauge({
      name: 'gemgate_log_queue_rows',
      help: 'Log rows waiting to be written to the database.',
      registers: [],
      collect() {
        this.set(sources.logs().queued)
      },
    }),
  )
  let dropped = 0
  register(
    new Counter({
      name: 'gemgate_log_rows_dropped_total',
      help: 'Log rows dropped because the queue was full (the database too slow or down for too long).',
      registers: [],
      collect() {
        const now = sources.logs().dropped
        if (now > dropped) this.inc(now - dropped)
        dropped = now
      },
    }),
  )
  register(
    new Gauge({
      name: 'gemgate_database_up',
      help: 'Whether the database answers (1) or not (0).',
      labelNames: ['type'] as const,
      registers: [],
      async collect() {
        this.set({ type: sources.database.type }, (await withTimeout(sources.database.up(), DATABASE_PING_MS)) ? 1 : 0)
      },
    }),
  )
  const redis = sources.redis
  if (redis) {
    register(
      new Gauge({
        name: 'gemgate_redis_up',
        help: 'Whether Redis (REDIS_URL) is connected (1) or not (0).',
        registers: [],
        collect() {
          this.set(redis() ? 1 : 0)
        },
      }),
    )
  }
  return { registry, requests, upstream, overhead }
}

/**
 * The process's own series (CPU, memory, event-loop lag, GC), started at the first scrape: their monitors cost a
 * little all the time, so a gateway nobody scrapes does not run them.
 */
export function startProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry })
}

async function withTimeout(answer: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([answer.catch(() => false), late])
  } finally {
    clearTimeout(timer)
  }
}
