import { setTimeout as sleep } from 'node:timers/promises'
import { createConsola } from 'consola'
import { H3 } from 'h3'
import { FastResponse } from 'srvx'
import { afterEach, describe, expect, it } from 'vitest'
import { createContext, type AttemptRecord, type GatewayRequest } from '../../core/context.ts'
import type { FailureClass } from '../../core/keys/judge.ts'
import { createMetrics, databaseHealth, observeRequest, type Metrics, type MetricsOptions } from '../../core/metrics.ts'
import { MAX_MODEL_LABELS } from '../../core/metrics/labels.ts'
import { ServiceRegistry } from '../../core/services.ts'
import { openDatabase, openDatabaseWhenReachable, type GatewayDatabase } from '../../storage/index.ts'
import { sample } from '../prometheus.ts'

const TOKEN = 'metrics-token-for-the-unit-test'
const logger = createConsola({ level: -999 })

/**
 * A real h3 app whose model route does what the runner does for a pipeline request: a request context tied to the
 * HTTP request, attempts recorded, finish called once the answer has left (a stream: at its end).
 */
function gatewayApp(metricsRoute: Awaited<ReturnType<Metrics['handler']>>): H3 {
  const app = new H3()
  app.post('/v1beta/models/:model', async (event) => {
    const model = event.context.params!.model!
    const stream = event.url.searchParams.get('stream') === '1'
    const { ctx, finish } = createContext(requestFor(model, stream), { services: new ServiceRegistry(), logger }, event.req.signal)
    observeRequest(event, ctx)
    const spec = event.req.headers.get('x-attempts') ?? 'ok:0'
    for (const [index, item] of spec.split(',').entries()) {
      const [failureClass, ms] = item.split(':')
      // As long as the attempt says it took: the gateway never reports more upstream time than the request took.
      await sleep(Number(ms))
      ctx.attempts.push(attempt(index + 1, failureClass as FailureClass, Number(ms)))
    }
    const status = Number(event.req.headers.get('x-status') ?? 200)
    if (!stream) {
      finish()
      return new FastResponse('{}', { status, headers: { 'content-type': 'application/json' } })
    }
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 2) return controller.enqueue(new TextEncoder().encode('data: {}\r\n\r\n'))
        controller.close()
        finish()
      },
      cancel: () => finish(),
    })
    return new FastResponse(body, { headers: { 'content-type': 'text/event-stream' } })
  })
  app.get('/metrics', metricsRoute)
  app.get('/health', () => ({ status: 'healthy' }))
  app.all('/**', () => new FastResponse('no route', { status: 404 }))
  return app
}

function requestFor(model: string, stream: boolean): GatewayRequest {
  return { operation: stream ? 'streamGenerateContent' : 'generateContent', model, upstreamModel: model, stream, body: {}, dialect: 'gemini', credentials: [] }
}

function attempt(number: number, failureClass: FailureClass, latencyMs: number): AttemptRecord {
  return { attempt: number, keyId: `k${number}`, keyLabel: 'AIza...0001', startedAt: Date.now(), latencyMs, status: 200, failureClass, reason: '' }
}

interface Sources {
  on: boolean
  keys: Array<{ pool: string; state: string }>
  logs: { queued: number; dropped: number }
  redis: boolean
}

async function setup(database: MetricsOptions['database'] = { type: 'sqlite', up: async () => true }) {
  const sources: Sources = { on: true, keys: [], logs: { queued: 0, dropped: 0 }, redis: true }
  const metrics = createMetrics({
    enabled: () => sources.on,
    keys: () => sources.keys,
    logs: () => sources.logs,
    database,
    redis: () => sources.redis,
  })
  const app = gatewayApp(await metrics.handler(TOKEN))
  const send = (path: string, init: RequestInit = {}) => metrics.serve(new Request(`http://gateway.test${path}`, init), app)
  const ask = (model: string, headers: Record<string, string> = {}, stream = false) =>
    send(`/v1beta/models/${model}${stream ? '?stream=1' : ''}`, { method: 'POST', headers })
  const scrape = async (token = TOKEN) => {
    const response = await send('/metrics', { headers: { authorization: `Bearer ${token}` } })
    return { response, text: await response.text() }
  }
  return { sources, send, ask, scrape }
}

/** Every label set a series has in a Prometheus text answer. */
function series(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`))
}

describe('Server-Timing', () => {
  it("gives every answer the gateway's own time, and Google's when attempts were made", async () => {
    const { ask, send, sources } = await setup()
    sources.on = false
    const answer = await ask('gemini-2.5-flash', { 'x-attempts': 'rate-limited:12.34,ok:20.06' })
    const timing = answer.headers.get('server-timing')!
    expect(timing).toMatch(/^gateway;dur=\d+(\.\d)?, upstream;dur=32\.4$/)
    // Nothing went upstream: the gateway's time alone, on a 404 and a route outside the pipeline too.
    expect((await send('/health')).headers.get('server-timing')).toMatch(/^gateway;dur=\d+(\.\d)?$/)
    expect((await send('/nowhere')).headers.get('server-timing')).toMatch(/^gateway;dur=\d+(\.\d)?$/)
  })

  it('goes out with the headers of a stream, before its body is read', async () => {
    const { ask } = await setup()
    const answer = await ask('gemini-2.5-flash', { 'x-attempts': 'ok:7' }, true)
    expect(answer.headers.get('server-timing')).toMatch(/^gateway;dur=[\d.]+, upstream;dur=7$/)
    expect(await answer.text()).toBe('data: {}\r\n\r\n'.repeat(2))
  })
})

describe('GET /metrics', () => {
  it('asks for the token: 401 without it or with a wrong one', async () => {
    const { send, scrape } = await setup()
    const missing = await send('/metrics')
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toContain('Bearer')
    expect((await scrape('not-the-token')).response.status).toBe(401)
    const good = await scrape()
    expect(good.response.status).toBe(200)
    expect(good.response.headers.get('content-type')).toContain('text/plain; version=0.0.4')
    expect(good.text).toContain('process_resident_memory_bytes')
  })

  it('counts answers by route, dialect, model, status and failure class', async () => {
    const { ask, send, scrape } = await setup()
    await ask('gemini-2.5-flash', { 'x-attempts': 'ok:5' })
    await ask('gemini-2.5-flash', { 'x-attempts': 'rate-limited:3,ok:5' })
    await ask('gemini-2.5-flash', { 'x-attempts': 'rate-limited:3', 'x-status': '429' })
    await send('/health')
    await send('/nowhere')
    const { text } = await scrape()
    const route = '/v1beta/models/:model'
    expect(sample(text, 'gemgate_requests_total', { route, dialect: 'gemini', model: 'gemini-2.5-flash', status: '200', failure_class: 'ok' })).toBe(2)
    expect(sample(text, 'gemgate_requests_total', { route, dialect: 'gemini', model: 'gemini-2.5-flash', status: '429', failure_class: 'rate-limited' })).toBe(
      1,
    )
    expect(sample(text, 'gemgate_requests_total', { route: '/health', dialect: 'none', model: 'none', status: '200', failure_class: 'ok' })).toBe(1)
    expect(sample(text, 'gemgate_requests_total', { route: '/**', dialect: 'none', model: 'none', status: '404', failure_class: 'client-error' })).toBe(1)
    // One observation per attempt that took time, one overhead per pipeline request.
    expect(sample(text, 'gemgate_upstream_duration_seconds_count', { model: 'gemini-2.5-flash' })).toBe(4)
    expect(sample(text, 'gemgate_upstream_duration_seconds_sum', { model: 'gemini-2.5-flash' })).toBeCloseTo(0.016, 6)
    expect(sample(text, 'gemgate_gateway_overhead_seconds_count', { dialect: 'gemini' })).toBe(3)
  })

  it('keeps model labels bounded: only models Google served, at most a fixed number; the rest are "other"', async () => {
    const { ask, scrape } = await setup()
    // A client inventing model names Google refuses (or that fail before Google said anything of them): no label each.
    for (let i = 0; i < 50; i++) await ask(`made-up-${i}`, { 'x-attempts': 'model-unavailable:1', 'x-status': '404' })
    for (let i = 0; i < 5; i++) await ask(`made-up-again-${i}`, { 'x-attempts': 'upstream-error:1', 'x-status': '503' })
    // Even models Google served stop getting labels of their own past the bound.
    for (let i = 0; i < MAX_MODEL_LABELS + 20; i++) await ask(`served-${i}`, { 'x-attempts': 'ok:1' })
    const { text } = await scrape()
    const models = new Set(series(text, 'gemgate_requests_total').map((line) => /model="([^"]*)"/.exec(line)![1]))
    expect(models.size).toBe(MAX_MODEL_LABELS + 1)
    expect(models.has('other')).toBe(true)
    expect([...models].some((model) => model.startsWith('made-up'))).toBe(false)
    expect(
      sample(text, 'gemgate_requests_total', {
        route: '/v1beta/models/:model',
        dialect: 'gemini',
        model: 'other',
        status: '404',
        failure_class: 'model-unavailable',
      }),
    ).toBe(50)
    expect(
      sample(text, 'gemgate_requests_total', { route: '/v1beta/models/:model', dialect: 'gemini', model: 'other', status: '200', failure_class: 'ok' }),
    ).toBe(20)
  })

  it('shows requests and streams in flight, and counts a stream once it has ended', async () => {
    const { ask, scrape } = await setup()
    const open = await ask('gemini-2.5-flash', { 'x-attempts': 'ok:4' }, true)
    let { text } = await scrape()
    // The scrape itself is a request in flight while it is answered.
    expect(sample(text, 'gemgate_requests_in_flight')).toBe(2)
    expect(sample(text, 'gemgate_streams_in_flight')).toBe(1)
    expect(series(text, 'gemgate_requests_total').filter((line) => line.includes('dialect="gemini"'))).toEqual([])
    await open.text()
    ;({ text } = await scrape())
    expect(sample(text, 'gemgate_requests_in_flight')).toBe(1)
    expect(sample(text, 'gemgate_streams_in_flight')).toBe(0)
    expect(
      sample(text, 'gemgate_requests_total', {
        route: '/v1beta/models/:model',
        dialect: 'gemini',
        model: 'gemini-2.5-flash',
        status: '200',
        failure_class: 'ok',
      }),
    ).toBe(1)
  })

  it('counts nothing while metrics are off', async () => {
    const { ask, scrape, sources } = await setup()
    sources.on = false
    await ask('gemini-2.5-flash')
    const held = await ask('gemini-2.5-flash', {}, true)
    sources.on = true
    // A stream that started while off ends without being counted, and leaves no request or stream behind.
    await held.text()
    const { text } = await scrape()
    expect(series(text, 'gemgate_requests_total').filter((line) => !line.includes('route="/metrics"'))).toEqual([])
    expect(sample(text, 'gemgate_streams_in_flight')).toBe(0)
    expect(sample(text, 'gemgate_requests_in_flight')).toBe(1)
  })

  it('reads keys by state, the log queue and Redis when scraped', async () => {
    const { scrape, sources } = await setup()
    sources.keys = [
      { pool: 'gemini', state: 'healthy' },
      { pool: 'gemini', state: 'healthy' },
      { pool: 'gemini', state: 'cooling' },
      { pool: 'vertex-express', state: 'disabled' },
    ]
    sources.logs = { queued: 17, dropped: 5 }
    let { text } = await scrape()
    expect(sample(text, 'gemgate_keys', { pool: 'gemini', state: 'healthy' })).toBe(2)
    expect(sample(text, 'gemgate_keys', { pool: 'gemini', state: 'cooling' })).toBe(1)
    expect(sample(text, 'gemgate_keys', { pool: 'vertex-express', state: 'disabled' })).toBe(1)
    expect(sample(text, 'gemgate_log_queue_rows')).toBe(17)
    expect(sample(text, 'gemgate_log_rows_dropped_total')).toBe(5)
    expect(sample(text, 'gemgate_redis_up')).toBe(1)

    // The cooling key is back: its old count does not linger.
    sources.keys = sources.keys.map((key) => (key.state === 'cooling' ? { ...key, state: 'healthy' } : key))
    sources.logs = { queued: 0, dropped: 9 }
    sources.redis = false
    ;({ text } = await scrape())
    expect(sample(text, 'gemgate_keys', { pool: 'gemini', state: 'healthy' })).toBe(3)
    expect(sample(text, 'gemgate_keys', { pool: 'gemini', state: 'cooling' })).toBeUndefined()
    expect(sample(text, 'gemgate_log_queue_rows')).toBe(0)
    expect(sample(text, 'gemgate_log_rows_dropped_total')).toBe(9)
    expect(sample(text, 'gemgate_redis_up')).toBe(0)
  })
})

describe('database health', () => {
  const opened: GatewayDatabase[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()))
  })

  it('is 1 while the database answers and 0 once it does not', async () => {
    const database = await openDatabase({ type: 'sqlite', path: ':memory:' })
    opened.push(database)
    const { scrape } = await setup(databaseHealth(database))
    expect(sample((await scrape()).text, 'gemgate_database_up', { type: 'sqlite' })).toBe(1)
    await database.close()
    expect(sample((await scrape()).text, 'gemgate_database_up', { type: 'sqlite' })).toBe(0)
  })

  it('is 0 for a MySQL server that cannot be reached', async () => {
    const database = await openDatabaseWhenReachable(
      { type: 'mysql', host: '127.0.0.1', port: 1, user: 'root', password: '', database: 'test' },
      { logger: { warn() {}, info() {} }, firstDelayMs: 60_000 },
    )
    opened.push(database)
    const { scrape } = await setup(databaseHealth(database))
    expect(sample((await scrape()).text, 'gemgate_database_up', { type: 'mysql' })).toBe(0)
  })
})
