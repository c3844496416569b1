import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createClientGate, tokensOf } from '../../core/clients/gate.ts'
import {
  countedLimits,
  limitRefusal,
  modelMatcher,
  modelRefusal,
  pickLimits,
  reachedLimits,
  retryAfterSeconds,
  utcDayAt,
  utcMonthAt,
  windowOf,
  type CountedLimit,
} from '../../core/clients/limits.ts'
import { ConfigError, loadGatewayConfig } from '../../core/config/load.ts'
import type { GatewayConfig } from '../../core/config/schema.ts'
import type { AttemptRecord, Outcome, RequestContext } from '../../core/context.ts'
import { createIdHasher } from '../../core/identity.ts'
import { Payload } from '../../core/payload.ts'
import { LocalCounters, windowStart } from '../../core/shared/local.ts'
import { authStage, createAuthenticator } from '../../core/stages/auth.ts'

const at = (iso: string) => Date.parse(iso)
const idOf = createIdHasher('test-deployment-secret-of-32-chars')

describe('client limit windows (UTC)', () => {
  it.each([
    { now: '2026-03-08T09:30:00Z', start: '2026-03-08T00:00:00Z', end: '2026-03-09T00:00:00Z' },
    // The days clocks change in the US (or Europe) are 24 h in UTC.
    { now: '2026-11-01T23:59:59.999Z', start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z' },
    { now: '2026-12-31T23:00:00Z', start: '2026-12-31T00:00:00Z', end: '2027-01-01T00:00:00Z' },
    { now: '2027-01-01T00:00:00Z', start: '2027-01-01T00:00:00Z', end: '2027-01-02T00:00:00Z' },
  ])('the day of $now is [$start, $end)', ({ now, start, end }) => {
    expect(utcDayAt(at(now))).toEqual({ start: at(start), end: at(end) })
    const { span, window } = windowOf('rpd', at(now))
    expect(span).toEqual({ start: at(start), end: at(end) })
    // The shared counters put the same instant in the window that starts where the span does.
    expect(windowStart(window, at(now))).toBe(at(start))
    expect(windowOf('tokensPerDay', at(now)).span).toEqual(span)
  })

  it.each([
    { now: '2026-01-31T23:59:59Z', start: '2026-01-01T00:00:00Z', end: '2026-02-01T00:00:00Z', days: 31 },
    { now: '2026-02-14T12:00:00Z', start: '2026-02-01T00:00:00Z', end: '2026-03-01T00:00:00Z', days: 28 },
    { now: '2028-02-29T12:00:00Z', start: '2028-02-01T00:00:00Z', end: '2028-03-01T00:00:00Z', days: 29 },
    { now: '2026-04-30T23:00:00Z', start: '2026-04-01T00:00:00Z', end: '2026-05-01T00:00:00Z', days: 30 },
    { now: '2026-12-01T00:00:00Z', start: '2026-12-01T00:00:00Z', end: '2027-01-01T00:00:00Z', days: 31 },
  ])('the month of $now has $days days from $start', ({ now, start, end, days }) => {
    expect(utcMonthAt(at(now))).toEqual({ start: at(start), end: at(end) })
    const { span, window } = windowOf('tokensPerMonth', at(now))
    expect(window.ms).toBe(days * 86_400_000)
    expect(windowStart(window, at(now))).toBe(span.start)
    // Next month's window is another one: its counters start from zero.
    expect(windowStart(windowOf('tokensPerMonth', span.end).window, span.end)).toBe(span.end)
  })

  it('a minute is the UTC minute', () => {
    const { span, window } = windowOf('rpm', at('2026-05-05T10:20:30.500Z'))
    expect(span).toEqual({ start: at('2026-05-05T10:20:00Z'), end: at('2026-05-05T10:21:00Z') })
    expect(window).toEqual({ ms: 60_000 })
  })
})

describe('client limit decisions', () => {
  const now = at('2026-05-05T10:20:30Z')
  const minuteEnd = at('2026-05-05T10:21:00Z')
  const dayEnd = at('2026-05-06T00:00:00Z')
  const monthEnd = at('2026-06-01T00:00:00Z')

  it.each<{ name: string; counted: CountedLimit[]; totals: number[]; reached: string[]; until?: number }>([
    { name: 'requests up to the limit go', counted: [{ field: 'rpm', limit: 5 }], totals: [5], reached: [] },
    { name: 'the request past it stops', counted: [{ field: 'rpm', limit: 5 }], totals: [6], reached: ['rpm'], until: minuteEnd },
    { name: 'a day of requests', counted: [{ field: 'rpd', limit: 100 }], totals: [101], reached: ['rpd'], until: dayEnd },
    { name: 'a budget not used up', counted: [{ field: 'tokensPerDay', limit: 1000 }], totals: [999], reached: [] },
    { name: 'a budget used up', counted: [{ field: 'tokensPerDay', limit: 1000 }], totals: [1000], reached: ['tokensPerDay'], until: dayEnd },
    { name: 'a budget overshot', counted: [{ field: 'tokensPerMonth', limit: 1000 }], totals: [5000], reached: ['tokensPerMonth'], until: monthEnd },
    {
      name: 'several reached: retry when the last resets',
      counted: [
        { field: 'rpm', limit: 1 },
        { field: 'rpd', limit: 10 },
        { field: 'tokensPerMonth', limit: 50 },
      ],
      totals: [2, 3, 50],
      reached: ['rpm', 'tokensPerMonth'],
      until: monthEnd,
    },
  ])('$name', ({ counted, totals, reached, until }) => {
    const stops = reachedLimits(counted, totals, now)
    expect(stops.map((stop) => stop.field)).toEqual(reached)
    if (until === undefined) return
    const refusal = limitRefusal(stops, now)
    expect(refusal.status).toBe(429)
    expect(refusal.rpcStatus).toBe('RESOURCE_EXHAUSTED')
    expect(refusal.headers['retry-after']).toBe(String(Math.ceil((until - now) / 1000)))
    for (const stop of stops) expect(refusal.message).toContain(String(stop.limit))
  })

  it.each([
    { until: 1_000, now: 0, seconds: 1 },
    { until: 1_001, now: 0, seconds: 2 },
    { until: 500, now: 0, seconds: 1 },
    { until: 0, now: 0, seconds: 1 },
    { until: 86_400_000, now: 0, seconds: 86_400 },
  ])('Retry-After until $until from $now: $seconds s', ({ until, now, seconds }) => {
    expect(retryAfterSeconds(until, now)).toBe(seconds)
  })

  it.each([
    { patterns: ['gemini-2.5-flash'], model: 'gemini-2.5-flash', allowed: true },
    { patterns: ['gemini-2.5-flash'], model: 'gemini-2.5-flash-search', allowed: false },
    { patterns: ['gemini-2.5-flash*'], model: 'gemini-2.5-flash-search', allowed: true },
    { patterns: ['gemini-2.5-*'], model: 'gemini-2.5-pro', allowed: true },
    { patterns: ['gemini-2.5-*'], model: 'gemini-2.0-flash', allowed: false },
    { patterns: ['gemini-2.5-pro', 'text-embedding-*'], model: 'text-embedding-004', allowed: true },
    { patterns: ['*'], model: 'anything', allowed: true },
  ])('models $patterns: $model allowed: $allowed', ({ patterns, model, allowed }) => {
    expect(modelMatcher(patterns)(model)).toBe(allowed)
  })

  it('a refused model is named, with the ones allowed', () => {
    const refusal = modelRefusal('gemini-2.5-pro', ['gemini-2.5-flash', 'gemini-2.0-*'])
    expect(refusal.status).toBe(403)
    expect(refusal.message).toBe('This gateway token may not use the model gemini-2.5-pro; it may use gemini-2.5-flash, gemini-2.0-*.')
  })

  it('counts only limits above zero, and picks only limit fields', () => {
    expect(countedLimits({ rpm: 0, rpd: 3, tokensPerMonth: 9, models: ['m'] })).toEqual([
      { field: 'rpd', limit: 3 },
      { field: 'tokensPerMonth', limit: 9 },
    ])
    const entry = { token: 'sk-secret', name: 'n', enabled: true, models: [], rpm: 2, expiresAt: 5 }
    expect(pickLimits(entry)).toEqual({ rpm: 2, expiresAt: 5 })
  })

  it('tokens spent are every attempt’s total (or its parts when Google gave no total)', () => {
    const attempt = (usage: AttemptRecord['usage']) => ({ usage }) as AttemptRecord
    expect(
      tokensOf([attempt(undefined), attempt({ totalTokens: 7, promptTokens: 3 }), attempt({ promptTokens: 2, completionTokens: 3, thinkingTokens: 1 })]),
    ).toBe(13)
  })
})

describe('a client token’s gate on the shared counters', () => {
  it('none for a token without limits; a model list alone counts nothing', () => {
    expect(createClientGate('t0', {}, undefined)).toBeUndefined()
    expect(createClientGate('t0', { expiresAt: 1, rpm: 0 }, undefined)).toBeUndefined()
    const gate = createClientGate('t1', { models: ['gemini-2.5-flash'] }, undefined)!
    expect(gate.allows?.('gemini-2.5-flash')).toBe(true)
    expect(gate.admit).toBeUndefined()
    expect(gate.spend).toBeUndefined()
    expect(() => createClientGate('t2', { rpm: 1 }, undefined)).toThrow(/counters/)
  })

  it('admits up to the request limits, refuses past them without keeping the refused count, spends budgets', async () => {
    const counters = new LocalCounters()
    const gate = createClientGate('t3', { rpm: 2, tokensPerDay: 10 }, counters)!
    const now = Date.now()
    expect(await gate.admit!(now)).toBeUndefined()
    expect(await gate.admit!(now)).toBeUndefined()
    const refused = await gate.admit!(now)
    expect(refused?.status).toBe(429)
    expect(refused?.message).toContain('2 requests per minute')
    // The refused request was taken back: the count is the two that went.
    expect(await counters.get('client:t3:rpm', { ms: 60_000 })).toBe(2)
    gate.spend!(10, now)
    expect(await counters.get('client:t3:tokensPerDay', { ms: 86_400_000 })).toBe(10)
    const other = createClientGate('t4', { tokensPerDay: 10 }, counters)!
    expect(await other.admit!(now)).toBeUndefined()
    other.spend!(9, now)
    expect(await other.admit!(now)).toBeUndefined()
    other.spend!(1, now)
    const spent = await other.admit!(now)
    expect(spent?.message).toContain('10 tokens per day (UTC)')
    expect(Number(spent?.headers['retry-after'])).toBe(Math.ceil((utcDayAt(now).end - now) / 1000))
  })
})

describe('authentication with client tokens', () => {
  const context = (credentials: (string | undefined)[], model = 'gemini-2.5-flash'): RequestContext => ({
    id: 'r1',
    startedAt: 0,
    request: { operation: 'generateContent', model, upstreamModel: model, stream: false, body: {}, dialect: 'gemini', credentials },
    signal: new AbortController().signal,
    services: {} as RequestContext['services'],
    attempts: [],
    bodyChanged: false,
    state: {},
    onFinish: () => {},
  })
  const answer: Promise<Outcome> = Promise.resolve({ kind: 'json', status: 200, body: Payload.fromData({}) })
  const counters = new LocalCounters()
  const authenticate = createAuthenticator(['sk-plain-token-000001', 'sk-limited-token-00002'], idOf, [], {
    counters,
    clientTokens: [
      { token: 'sk-limited-token-00002', name: 'limited', enabled: true, rpm: 1 },
      { token: 'sk-models-token-000003', enabled: true, models: ['gemini-2.5-flash'] },
      { token: 'sk-expired-token-00004', enabled: true, expiresAt: Date.now() - 1000 },
      { token: 'sk-later-token-0000005', enabled: true, expiresAt: Date.now() + 60_000 },
      { token: 'sk-disabled-token-0006', enabled: false },
    ],
  })
  const auth = authStage(authenticate)

  it('a token without limits (or with only models) goes on without a promise or a count of its own', () => {
    // The stage hands back next()'s own promise: nothing was awaited or counted in between.
    expect(auth.run(context(['sk-plain-token-000001']), () => answer)).toBe(answer)
    expect(auth.run(context(['sk-models-token-000003']), () => answer)).toBe(answer)
    expect(auth.run(context(['sk-later-token-0000005']), () => answer)).toBe(answer)
  })

  it('a clientTokens entry gives a token of ALLOWED_TOKENS its limits', async () => {
    await expect(auth.run(context(['sk-limited-token-00002']), () => answer)).resolves.toMatchObject({ kind: 'json' })
    await expect(auth.run(context(['sk-limited-token-00002']), () => answer)).rejects.toMatchObject({ status: 429 })
  })

  it('a model the token may not use: 403 naming it', async () => {
    await expect(auth.run(context(['sk-models-token-000003'], 'gemini-2.5-pro'), () => answer)).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('may not use the model gemini-2.5-pro'),
    })
    // Operations without a model (lists) are not held to it.
    expect(auth.run(context(['sk-models-token-000003'], ''), () => answer)).toBe(answer)
  })

  it('disabled and expired tokens are refused with 401 saying which; another usable credential still passes', () => {
    expect(authenticate(['sk-expired-token-00004'])).toBeUndefined()
    expect(authenticate.refuse(['sk-expired-token-00004']).message).toMatch(/^This gateway token expired at \d{4}-\d\d-\d\dT/)
    expect(authenticate(['sk-disabled-token-0006'])).toBeUndefined()
    expect(authenticate.refuse(['sk-disabled-token-0006'])).toMatchObject({ status: 401, message: 'This gateway token is disabled.' })
    expect(authenticate.refuse(['sk-unknown-token-00007']).message).toContain('not valid')
    expect(authenticate(['sk-disabled-token-0006', 'sk-plain-token-000001'])?.tokenId).toBe(idOf('sk-plain-token-000001'))
  })
})

describe('clientTokens in gateway.config.ts', () => {
  const load = (clientTokens: unknown) =>
    loadGatewayConfig({
      cwd: mkdtempSync(join(tmpdir(), 'gemgate-config-')),
      env: { ALLOWED_TOKENS: 'sk-a-long-enough-client-token' },
      dotenv: false,
      overrides: { clientTokens } as Partial<GatewayConfig>,
    })
  const failure = (clientTokens: unknown) =>
    load(clientTokens).then(
      () => expect.unreachable('the config loaded'),
      (error: Error) => {
        expect(error).toBeInstanceOf(ConfigError)
        return error.message
      },
    )

  it('loads names, limits and expiries (an ISO date is midnight UTC; epoch ms as given); enabled by default', async () => {
    const { config } = await load([
      { token: 'sk-client-token-one-0001', name: 'alice', models: ['gemini-2.5-*'], rpm: 60, tokensPerMonth: 1e9, expiresAt: '2027-01-01' },
      { token: 'sk-client-token-two-0002', expiresAt: 1_800_000_000_000, enabled: false },
      { token: 'sk-client-token-three-03', expiresAt: '2027-01-01T12:30:00Z' },
    ])
    expect(config.clientTokens).toEqual([
      {
        token: 'sk-client-token-one-0001',
        name: 'alice',
        models: ['gemini-2.5-*'],
        rpm: 60,
        tokensPerMonth: 1e9,
        expiresAt: at('2027-01-01T00:00:00Z'),
        enabled: true,
      },
      { token: 'sk-client-token-two-0002', expiresAt: 1_800_000_000_000, enabled: false },
      { token: 'sk-client-token-three-03', expiresAt: at('2027-01-01T12:30:00Z'), enabled: true },
    ])
  })

  it.each([
    { entry: [{ token: 'sk-client-token-one-0001', rpm: -1 }], says: 'clientTokens.0.rpm' },
    { entry: [{ token: 'sk-client-token-one-0001', tokensPerDay: 1.5 }], says: 'whole number' },
    { entry: [{ token: 'sk-client-token-one-0001', expiresAt: 'next week' }], says: 'ISO 8601' },
    { entry: [{ token: 'sk-client-token-one-0001', rps: 3 }], says: 'clientTokens.0.rps' },
    { entry: [{ token: 'sk-client-token-one-0001' }, { token: 'sk-client-token-one-0001' }], says: 'lists a token twice' },
  ])('refuses $entry at start, naming the problem', async ({ entry, says }) => {
    const message = await failure(entry)
    expect(message).toContain(says)
    expect(message).not.toContain('sk-client-token-one-0001')
  })

  it.each([[[{ token: 31415926535897 }]], ['sk-SECRET-TOKEN-not-a-list'], [['sk-SECRET-TOKEN-not-an-object']]])(
    'a bad token is named without its value: %j',
    async (clientTokens) => {
      const message = await failure(clientTokens)
      expect(message).toContain('clientTokens')
      expect(message).not.toMatch(/31415926535897|SECRET-TOKEN/)
    },
  )
})
