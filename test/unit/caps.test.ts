import { randomBytes } from 'node:crypto'
import { createConsola } from 'consola'
import { afterAll, describe, expect, it } from 'vitest'
import { createIdHasher } from '../../core/identity.ts'
import { createKeyCaps, hasCaps, resolveCaps, type CapsConfig } from '../../core/keys/caps.ts'
import { dayWindow, minuteAt, pacificDayAt } from '../../core/keys/internal/windows.ts'
import { KeyPool } from '../../core/keys/pool.ts'
import type { PoolKey } from '../../core/keys/strategies.ts'
import { createSharedState, type CounterWindow, type Counters, type SharedState } from '../../core/shared/index.ts'
import { REDIS_URL } from '../storage/backends.ts'

const MODEL = 'gemini-2.5-flash'
const idOf = createIdHasher('test-deployment-secret-of-32-chars')
const key = (id: string, index = 0): PoolKey => ({ id, label: id, secret: id, index })
const at = (iso: string) => Date.parse(iso)

/** Counters in memory on a clock the test moves: one total per name for the window that holds `now`. */
class ClockCounters implements Counters {
  readonly totals = new Map<string, { start: number; total: number }>()
  constructor(private readonly clock: { now: number }) {}
  async add(name: string, by: number, window: CounterWindow): Promise<number> {
    const start = this.#start(window)
    const entry = this.totals.get(name)
    const total = (entry?.start === start ? entry.total : 0) + by
    this.totals.set(name, { start, total })
    return total
  }
  async get(name: string, window: CounterWindow): Promise<number> {
    const entry = this.totals.get(name)
    return entry?.start === this.#start(window) ? entry.total : 0
  }
  #start({ ms, anchor = 0 }: CounterWindow): number {
    return anchor + Math.floor((this.clock.now - anchor) / ms) * ms
  }
}

describe('cap windows', () => {
  const H = 3_600_000
  it.each([
    { name: 'a summer day (PDT): midnight is 07:00 UTC', now: '2026-07-15T12:00:00Z', start: '2026-07-15T07:00:00Z', hours: 24 },
    { name: 'a winter day (PST): midnight is 08:00 UTC', now: '2026-01-15T12:00:00Z', start: '2026-01-15T08:00:00Z', hours: 24 },
    { name: 'exactly at midnight: the day that starts then', now: '2026-07-15T07:00:00Z', start: '2026-07-15T07:00:00Z', hours: 24 },
    { name: 'a millisecond before midnight: the day before', now: '2026-07-15T06:59:59.999Z', start: '2026-07-14T07:00:00Z', hours: 24 },
    { name: 'spring forward (8 March 2026): 23 hours', now: '2026-03-08T12:00:00Z', start: '2026-03-08T08:00:00Z', hours: 23 },
    { name: 'fall back (1 November 2026): 25 hours', now: '2026-11-01T20:00:00Z', start: '2026-11-01T07:00:00Z', hours: 25 },
    { name: 'the day after spring forward: 24 hours from 07:00 UTC', now: '2026-03-09T10:00:00Z', start: '2026-03-09T07:00:00Z', hours: 24 },
    { name: 'late on New Year’s Eve, Pacific', now: '2027-01-01T07:59:00Z', start: '2026-12-31T08:00:00Z', hours: 24 },
  ])('Pacific day: $name', ({ now, start, hours }) => {
    expect(pacificDayAt(at(now))).toEqual({ start: at(start), end: at(start) + hours * H })
  })

  it.each([
    { now: '2026-07-15T12:34:56.789Z', start: '2026-07-15T12:34:00Z' },
    { now: '2026-07-15T12:34:00Z', start: '2026-07-15T12:34:00Z' },
  ])('minute of $now', ({ now, start }) => {
    expect(minuteAt(at(now))).toEqual({ start: at(start), end: at(start) + 60_000 })
  })
})

describe('resolving caps', () => {
  const config: CapsConfig = {
    rpm: 10,
    rpd: 1_000,
    models: { 'gemini-2.5-pro': { rpm: 5, rpd: 100 }, constructor: { rpm: 1 } },
    keys: { paid: { rpm: 1_000, models: { 'gemini-2.5-pro': { rpd: 10_000 } } }, free: { rpm: 0, rpd: 0 } },
    pool: { rpd: 5_000, models: { 'gemini-2.5-pro': { tpd: 1_000_000 } } },
  }
  it.each([
    { who: 'any key, a model without its own', keyId: 'k1', model: MODEL, caps: { key: { rpm: 10, rpd: 1_000 }, pool: { rpd: 5_000 } } },
    { who: 'any key on a model of its own', keyId: 'k1', model: 'gemini-2.5-pro', caps: { key: { rpm: 5, rpd: 100 }, pool: { rpd: 5_000, tpd: 1_000_000 } } },
    {
      who: 'a key of its own, field by field',
      keyId: 'paid',
      model: 'gemini-2.5-pro',
      caps: { key: { rpm: 1_000, rpd: 10_000 }, pool: { rpd: 5_000, tpd: 1_000_000 } },
    },
    { who: 'a key of its own, another model', keyId: 'paid', model: MODEL, caps: { key: { rpm: 1_000, rpd: 1_000 }, pool: { rpd: 5_000 } } },
    { who: 'a key whose own 0s lift every cap of its own', keyId: 'free', model: 'gemini-2.5-pro', caps: { pool: { rpd: 5_000, tpd: 1_000_000 } } },
  ])('$who', ({ keyId, model, caps }) => {
    expect(resolveCaps(config, keyId, model)).toEqual(caps)
  })

  it('nothing set, nothing counted; only own entries count (a model named toString finds no caps)', () => {
    expect(resolveCaps({}, 'k1', MODEL)).toBeUndefined()
    expect(resolveCaps({ models: { 'gemini-2.5-pro': { rpm: 5 } } }, 'k1', MODEL)).toBeUndefined()
    expect(resolveCaps({ models: { 'gemini-2.5-pro': { rpm: 5 } } }, 'k1', 'toString')).toBeUndefined()
    expect(hasCaps(undefined)).toBe(false)
    expect(hasCaps({ models: {}, keys: { k: {} }, pool: {} })).toBe(false)
    expect(hasCaps({ rpm: 0 })).toBe(false)
    expect(hasCaps({ keys: { k: { models: { m: { tpd: 1 } } } } })).toBe(true)
  })

  it('the caps of a key and model are worked out once (the same object every time after)', () => {
    const caps = createKeyCaps(config, { counters: new ClockCounters({ now: 0 }), pool: 'gemini' })
    expect(caps.limits(key('k1'), MODEL)).toBe(caps.limits(key('k2'), MODEL))
    expect(caps.limits(key('paid'), MODEL)).toBe(caps.limits(key('paid'), MODEL))
    expect(createKeyCaps({ models: { x: { rpm: 1 } } }, { counters: new ClockCounters({ now: 0 }), pool: 'gemini' }).limits(key('k1'), MODEL)).toBeUndefined()
  })
})

describe('counting against caps', () => {
  const setup = (config: CapsConfig, now = at('2026-07-15T12:00:10Z')) => {
    const clock = { now }
    const counters = new ClockCounters(clock)
    const caps = createKeyCaps(config, { counters, pool: 'gemini' })
    const admit = (k: PoolKey, model = MODEL) => caps.admit(k, model, caps.limits(k, model)!, clock.now)
    return { clock, counters, caps, admit }
  }

  it('a key at its requests per minute is refused until the minute ends; refused requests are not counted', async () => {
    const { clock, counters, admit } = setup({ rpm: 2 })
    const a = key('a')
    expect(await admit(a)).toBeUndefined()
    expect(await admit(a)).toBeUndefined()
    expect(await admit(a)).toEqual([
      { scope: 'key', until: at('2026-07-15T12:01:00Z'), reason: `the key's cap of 2 requests per minute on ${MODEL} is reached` },
    ])
    expect(await admit(key('b'))).toBeUndefined()
    await Promise.resolve()
    expect(counters.totals.get(`caps:key:a:${MODEL}:rpm`)?.total).toBe(2)
    clock.now = at('2026-07-15T12:01:00Z')
    expect(await admit(a)).toBeUndefined()
  })

  it('requests per day reset at midnight Pacific, also on the day clocks fall back (25 h)', async () => {
    const { clock, admit } = setup({ rpd: 1 }, at('2026-11-01T07:00:00Z'))
    const a = key('a')
    expect(await admit(a)).toBeUndefined()
    clock.now = at('2026-11-02T07:59:59Z') // 23:59:59 PST: still the long day
    expect((await admit(a))?.[0]?.until).toBe(at('2026-11-02T08:00:00Z'))
    clock.now = at('2026-11-02T08:00:00Z')
    expect(await admit(a)).toBeUndefined()
    clock.now = at('2026-11-03T07:59:00Z')
    expect((await admit(a))?.[0]?.until).toBe(at('2026-11-03T08:00:00Z'))
  })

  it('token caps: the answer’s input tokens count; a key at its cap is refused before it is sent', async () => {
    const { caps, admit, clock } = setup({ tpm: 150 })
    const a = key('a')
    const limits = caps.limits(a, MODEL)!
    expect(await caps.countTokens(a, MODEL, limits, 100, clock.now)).toBeUndefined()
    expect(await admit(a)).toBeUndefined()
    expect((await caps.countTokens(a, MODEL, limits, 60, clock.now))?.[0]).toMatchObject({ scope: 'key', until: at('2026-07-15T12:01:00Z') })
    expect((await admit(a))?.[0]?.reason).toContain('input tokens per minute')
  })

  it('a cap of the whole pool counts every key; a refusal by the pool takes back the key’s count too', async () => {
    const { counters, admit } = setup({ rpm: 5, pool: { rpm: 3 } })
    expect(await admit(key('a'))).toBeUndefined()
    expect(await admit(key('a'))).toBeUndefined()
    expect(await admit(key('b'))).toBeUndefined()
    expect(await admit(key('b'))).toEqual([
      expect.objectContaining({ scope: 'pool', reason: `the pool's cap of 3 requests per minute on ${MODEL} is reached` }),
    ])
    await Promise.resolve()
    expect(counters.totals.get(`caps:key:b:${MODEL}:rpm`)?.total).toBe(1)
  })
})

describe('the pool with caps', () => {
  function cappedPool(config: CapsConfig, n = 2) {
    const clock = { now: at('2026-07-15T12:00:10Z') }
    const pool = new KeyPool(
      Array.from({ length: n }, (_, i) => `AIzaSyCAP-${i}-xxxxxxxxxxxxxxxx`),
      { maxFailures: 3, now: () => clock.now, idOf, caps: createKeyCaps(config, { counters: new ClockCounters(clock), pool: 'gemini' }) },
    )
    return { pool, clock }
  }

  it('a model without caps costs nothing: no promise, no count', () => {
    const { pool } = cappedPool({ models: { 'gemini-2.5-pro': { rpm: 1 } } })
    expect(pool.admit(pool.keys[0]!, MODEL)).toBeUndefined()
  })

  it('skips a key at its cap until its window ends; with every key at its cap, 429 until the first frees up', async () => {
    const { pool, clock } = cappedPool({ rpm: 1 })
    const [a, b] = pool.keys as [PoolKey, PoolKey]
    expect(await pool.admit(a, MODEL)).toBe(true)
    expect(await pool.admit(a, MODEL)).toBe(false)
    for (let i = 0; i < 4; i++) expect(pool.pick(MODEL)).toBe(b)
    expect(pool.pick('gemini-2.5-pro')).toBeDefined()
    expect(await pool.admit(b, MODEL)).toBe(true)
    expect(await pool.admit(b, MODEL)).toBe(false)
    expect(pool.pick(MODEL)).toBeUndefined()
    expect(pool.unavailable(MODEL)).toMatchObject({ status: 429, retryAfterSeconds: 50, until: at('2026-07-15T12:01:00Z') })
    expect(pool.health(a).cooldowns).toEqual({})
    clock.now = at('2026-07-15T12:01:00Z')
    expect(new Set([pool.pick(MODEL), pool.pick(MODEL)])).toEqual(new Set([a, b]))
  })

  it('a pool at its cap serves no key on that model, and says so', async () => {
    const { pool, clock } = cappedPool({ pool: { models: { [MODEL]: { rpd: 1 } } } })
    expect(await pool.admit(pool.keys[0]!, MODEL)).toBe(true)
    expect(await pool.admit(pool.keys[1]!, MODEL)).toBe(false)
    expect(pool.pick(MODEL)).toBeUndefined()
    expect(pool.pick('gemini-2.5-pro')).toBeDefined()
    const refusal = pool.unavailable(MODEL)
    expect(refusal).toMatchObject({ status: 429, until: at('2026-07-16T07:00:00Z') })
    expect(refusal.message).toMatch(/^The pool's cap of 1 requests per day on gemini-2.5-flash is reached; it resets in \d+s\.$/)
    clock.now = at('2026-07-16T07:00:00Z')
    expect(pool.pick(MODEL)).toBeDefined()
  })

  it('tokens counted at the end of an answer hold the key once its cap is reached', async () => {
    const { pool } = cappedPool({ tpm: 100 })
    const [a, b] = pool.keys as [PoolKey, PoolKey]
    pool.countTokens(a, MODEL, { promptTokens: 120, totalTokens: 130 })
    await new Promise((resolve) => setImmediate(resolve))
    for (let i = 0; i < 3; i++) expect(pool.pick(MODEL)).toBe(b)
  })
})

describe('caps across instances on one Redis', () => {
  const states: SharedState[] = []
  afterAll(async () => {
    for (const state of states) await state.close()
  })

  async function instances(config: CapsConfig) {
    const prefix = `gemgate-test-caps-${randomBytes(4).toString('hex')}`
    const logger = createConsola({ level: -999 })
    const pair = [await createSharedState({ redisUrl: REDIS_URL, prefix, logger }), await createSharedState({ redisUrl: REDIS_URL, prefix, logger })]
    states.push(...pair)
    return { pair, caps: pair.map((state) => createKeyCaps(config, { counters: state.counters, pool: 'gemini' })) }
  }
  /** `count` admits at once, alternating between the two instances, on the keys `keyOf` gives; how many got through, by key id. */
  async function admitAtOnce(caps: ReturnType<typeof createKeyCaps>[], count: number, keyOf: (i: number) => PoolKey) {
    const now = Date.now()
    const tries = Array.from({ length: count }, async (_, i) => {
      const instance = caps[i % 2]!
      const k = keyOf(i)
      return { id: k.id, admitted: (await instance.admit(k, MODEL, instance.limits(k, MODEL)!, now)) === undefined }
    })
    const through = new Map<string, number>()
    for (const { id, admitted } of await Promise.all(tries)) if (admitted) through.set(id, (through.get(id) ?? 0) + 1)
    // Refusals are taken back without waiting: let them land.
    await new Promise((resolve) => setTimeout(resolve, 50))
    return { through, window: dayWindow(pacificDayAt(now)) }
  }

  it('are exact: two instances admitting at once let exactly the cap through, and count only what went', async () => {
    const { pair, caps } = await instances({ rpd: 7 })
    const { through, window } = await admitAtOnce(caps, 30, () => key('a'))
    expect(through.get('a')).toBe(7)
    expect(await pair[1]!.counters.get(`caps:key:a:${MODEL}:rpd`, window)).toBe(7)
  })

  it('with caps of the key and of the pool at once, each holds exactly and no request is refused wrongly', async () => {
    const { pair, caps } = await instances({ rpd: 7, pool: { rpd: 9 } })
    const { through, window } = await admitAtOnce(caps, 24, (i) => (i % 3 === 2 ? key('b', 1) : key('a')))
    expect(through.get('a')).toBeLessThanOrEqual(7)
    expect((through.get('a') ?? 0) + (through.get('b') ?? 0)).toBe(9)
    expect(await pair[0]!.counters.get(`caps:pool:gemini:${MODEL}:rpd`, window)).toBe(9)
    expect(await pair[1]!.counters.get(`caps:key:a:${MODEL}:rpd`, window)).toBe(through.get('a'))
  })
})
