import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { definePlugin } from '../../core/index.ts'
import { MAX_MODEL_LABELS } from '../../core/metrics/labels.ts'
import { registerSecrets } from '../secrets/recorder.ts'
import { REDIS_URL } from '../storage/backends.ts'
import { KEYS, post, startGateway, TOKEN, userText, type Running } from './harness.ts'
import { sample } from '../prometheus.ts'

const METRICS_TOKEN = 'metrics-scraper-token-0123456789abcdef'
const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent'
const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
const NATIVE_ROUTE = '/v1beta/models/:modelAction'

const scrape = (gw: Running, token = METRICS_TOKEN) => fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })

async function metricsText(gw: Running): Promise<string> {
  const response = await scrape(gw)
  expect(response.status).toBe(200)
  return response.text()
}

/** The sum of every series of `name` whose labels include `labels`. */
function total(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`)
  let sum = 0
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line)
    if (match?.[1] === name && wanted.every((pair) => match[2]!.split(/,(?=[a-z_]+=")/).includes(pair))) sum += Number(match[3])
  }
  return sum
}

const TIMING = /^gateway;dur=(\d+(?:\.\d)?), upstream;dur=(\d+(?:\.\d)?)$/
const GATEWAY_ONLY = /^gateway;dur=\d+(?:\.\d)?$/

describe('Server-Timing and /metrics off (no METRICS_TOKEN)', () => {
  let gw: Running
  beforeAll(async () => {
    gw = await startGateway({ upstream: { latencyMs: 30 } })
  })
  afterAll(() => gw.close())

  it('every answer carries Server-Timing: upstream time when Google was asked, the gateway time always', async () => {
    const answer = await post(gw, GENERATE, userText('hi'))
    expect(answer.status).toBe(200)
    const [, gateway, upstream] = TIMING.exec(answer.headers.get('server-timing')!)!
    expect(Number(upstream)).toBeGreaterThanOrEqual(30)
    expect(Number(gateway)).toBeLessThan(Number(upstream))
    const refused = await post(gw, GENERATE, userText('hi'), { 'x-goog-api-key': 'not-a-token' })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('server-timing')).toMatch(GATEWAY_ONLY)
    expect((await fetch(`${gw.url}/health`)).headers.get('server-timing')).toMatch(GATEWAY_ONLY)
  })

  it("a stream's header leaves with its first byte, timed to Google's first event", async () => {
    const started = performance.now()
    const answer = await post(gw, STREAM, userText('hi'))
    const headersAt = performance.now() - started
    const [, , upstream] = TIMING.exec(answer.headers.get('server-timing')!)!
    expect(Number(upstream)).toBeGreaterThanOrEqual(30)
    expect(Number(upstream)).toBeLessThanOrEqual(headersAt)
    expect(await answer.text()).toContain('finishReason')
  })

  it('GET /metrics does not exist', async () => {
    const answer = await scrape(gw)
    expect(answer.status).toBe(404)
    expect(await answer.text()).not.toContain('gemgate_')
  })

  it('appears as soon as a token is saved in the console, no restart', async () => {
    // Settings saved in the console are kept in the database by design: this token is not one the leak check looks for.
    const saved = 'metrics-token-saved-in-the-console'
    await gw.gateway.control.settings.save({ metricsToken: saved })
    expect((await scrape(gw, saved)).status).toBe(200)
    await gw.gateway.control.settings.save({ metricsToken: null })
    expect((await scrape(gw, saved)).status).toBe(404)
  })
})

describe('GET /metrics (METRICS_TOKEN set)', () => {
  let gw: Running
  beforeAll(async () => {
    registerSecrets([METRICS_TOKEN])
    gw = await startGateway({ env: { METRICS_TOKEN }, upstream: { streamChunks: 4, chunkIntervalMs: 150 } })
  })
  afterAll(() => gw.close())
  afterEach(() => gw.reset())

  it('answers 401 without the token or with a wrong one', async () => {
    const missing = await fetch(`${gw.url}/metrics`)
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toContain('Bearer')
    expect((await scrape(gw, TOKEN)).status).toBe(401)
    expect((await scrape(gw)).headers.get('content-type')).toContain('text/plain')
  })

  it('counts answers by route, dialect, model, status and failure class, with upstream and overhead histograms', async () => {
    // Served first: a model gets its own label once Google has answered for it.
    expect((await post(gw, GENERATE, userText('hi'))).status).toBe(200)
    for (const key of KEYS) gw.upstream.setBehaviour(key, 'internal', { times: 1 })
    const failed = await post(gw, GENERATE, userText('every key fails'))
    expect(failed.status).toBeGreaterThanOrEqual(500)
    const chat = await post(gw, '/v1/chat/completions', { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
    expect(chat.status).toBe(200)
    expect((await post(gw, GENERATE, userText('hi'), { 'x-goog-api-key': 'not-a-token' })).status).toBe(401)
    const text = await metricsText(gw)
    const native = { route: NATIVE_ROUTE, dialect: 'gemini', model: 'gemini-2.5-flash' }
    expect(sample(text, 'gemgate_requests_total', { ...native, status: '200', failure_class: 'ok' })).toBe(1)
    expect(sample(text, 'gemgate_requests_total', { ...native, status: String(failed.status), failure_class: 'upstream-error' })).toBe(1)
    expect(
      sample(text, 'gemgate_requests_total', {
        route: '/v1/chat/completions',
        dialect: 'openai',
        model: 'gemini-2.5-flash',
        status: '200',
        failure_class: 'ok',
      }),
    ).toBe(1)
    expect(sample(text, 'gemgate_requests_total', { route: NATIVE_ROUTE, dialect: 'none', model: 'none', status: '401', failure_class: 'client-error' })).toBe(
      1,
    )
    // Three failed attempts and two answers went to Google; three requests ran the pipeline.
    expect(sample(text, 'gemgate_upstream_duration_seconds_count', { model: 'gemini-2.5-flash' })).toBe(5)
    expect(sample(text, 'gemgate_gateway_overhead_seconds_count', { dialect: 'gemini' })).toBe(2)
    expect(sample(text, 'gemgate_gateway_overhead_seconds_count', { dialect: 'openai' })).toBe(1)
  })

  it('gives models Google refused no label of their own, however many a client invents', async () => {
    for (let i = 0; i < MAX_MODEL_LABELS + 10; i++) {
      const answer = await post(gw, `/v1beta/models/invented-model-${i}:generateContent`, userText('hi'))
      expect(answer.status).toBe(404)
    }
    const text = await metricsText(gw)
    expect(text).not.toContain('invented-model')
    expect(total(text, 'gemgate_requests_total', { route: NATIVE_ROUTE, dialect: 'gemini', model: 'other', status: '404' })).toBe(MAX_MODEL_LABELS + 10)
  })

  it('shows a stream in flight until its last byte, then counts it', async () => {
    const answer = await post(gw, STREAM, userText('hi'))
    const reader = answer.body!.getReader()
    await reader.read()
    let text = await metricsText(gw)
    expect(sample(text, 'gemgate_streams_in_flight')).toBe(1)
    // The stream, and the scrape being answered.
    expect(sample(text, 'gemgate_requests_in_flight')).toBe(2)
    const counted = (body: string) =>
      sample(body, 'gemgate_requests_total', { route: NATIVE_ROUTE, dialect: 'gemini', model: 'gemini-2.5-flash', status: '200', failure_class: 'ok' })
    const before = counted(text)
    while (!(await reader.read()).done);
    await vi.waitFor(async () => {
      text = await metricsText(gw)
      expect(sample(text, 'gemgate_streams_in_flight')).toBe(0)
    })
    expect(sample(text, 'gemgate_requests_in_flight')).toBe(1)
    expect(counted(text)).toBe(before! + 1)
  })

  it('reads keys by state, the log queue and the database at scrape', async () => {
    // One key taken out by the operator, one cooling down after Google's 429, one healthy.
    gw.gateway.pool.disable(gw.gateway.pool.keys[0]!)
    gw.upstream.setBehaviour(KEYS[1]!, 'rate-minute', { times: 1, retryDelaySeconds: 60 })
    for (let i = 0; i < 2; i++) expect((await post(gw, GENERATE, userText('hi'))).status).toBe(200)
    await gw.gateway.logs.flush()
    const text = await metricsText(gw)
    expect(sample(text, 'gemgate_keys', { pool: 'gemini', state: 'disabled' })).toBe(1)
    expect(sample(text, 'gemgate_keys', { pool: 'gemini', state: 'cooling' })).toBe(1)
    expect(sample(text, 'gemgate_keys', { pool: 'gemini', state: 'healthy' })).toBe(1)
    expect(sample(text, 'gemgate_log_queue_rows')).toBe(0)
    expect(sample(text, 'gemgate_log_rows_dropped_total')).toBe(0)
    expect(sample(text, 'gemgate_database_up', { type: 'sqlite' })).toBe(1)
    // No REDIS_URL: no Redis series.
    expect(sample(text, 'gemgate_redis_up')).toBeUndefined()
    expect(text).toContain('nodejs_eventloop_lag_seconds')
  })
})

describe('GET /metrics with REDIS_URL', () => {
  let gw: Running
  beforeAll(async () => {
    registerSecrets([METRICS_TOKEN])
    gw = await startGateway({ env: { METRICS_TOKEN, REDIS_URL } })
  })
  afterAll(() => gw.close())

  it('says Redis is up while it is connected', async () => {
    expect(sample(await metricsText(gw), 'gemgate_redis_up')).toBe(1)
  })
})

describe('JSON log lines in production', () => {
  let gw: Running
  const printed: string[] = []
  beforeAll(async () => {
    // createLogger reads NODE_ENV as serve.ts's would in production (LOG_FORMAT unset: auto).
    vi.stubEnv('NODE_ENV', 'production')
    const failing = definePlugin({
      name: 'failing',
      summary: 'test: a plugin whose request hook throws (a bug: 500)',
      setup: () => ({
        transformRequest(request) {
          if (request.model === 'gemini-2.5-flash') throw new Error('plugin bug')
        },
      }),
    })
    gw = await startGateway({ env: { LOG_LEVEL: 'error' }, config: { plugins: [failing()] } })
    vi.unstubAllEnvs()
  })
  afterAll(() => gw.close())

  it('carry the id of the request a line is about: the request_id of its log row', async () => {
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk))
      return true
    })
    try {
      expect((await post(gw, GENERATE, userText('hi'))).status).toBe(500)
    } finally {
      spy.mockRestore()
    }
    await gw.gateway.logs.flush()
    const { rows } = await gw.gateway.database.db.sql`SELECT request_id FROM request_logs`
    expect(rows).toHaveLength(1)
    const line = printed.map((text) => JSON.parse(text)).find((entry) => entry.message === 'request failed')
    expect(line).toMatchObject({ level: 'error', tag: 'gemgate', requestId: rows![0]!.request_id, error: { message: 'plugin bug' } })
  })
})
