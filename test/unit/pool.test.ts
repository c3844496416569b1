import { describe, expect, it } from 'vitest'
import { judgeAttempt, type Verdict } from '../../core/keys/judge.ts'
import { createIdHasher, maskSecret } from '../../core/identity.ts'
import { KeyPool } from '../../core/keys/pool.ts'
import { createRotation, type PoolKey } from '../../core/keys/strategies.ts'
import { assessStorm, DEFAULT_STORM_POLICY } from '../../core/keys/storm.ts'

const MODEL = 'gemini-2.5-flash'
const idOf = createIdHasher('test-deployment-secret-of-32-chars')
const ok: Verdict = { class: 'ok', retry: false, effect: { kind: 'success' }, reason: 'ok' }
const strike: Verdict = { class: 'ambiguous', retry: true, effect: { kind: 'strike', reason: '401' }, reason: '401' }
const disable: Verdict = { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'invalid' }, reason: 'invalid' }
const clientError: Verdict = { class: 'client-error', retry: false, effect: { kind: 'none' }, reason: '400' }
const coolFor = (ms: number, now: number, reason: 'rate-limited' | 'quota-exhausted' = 'rate-limited'): Verdict => ({
  class: reason,
  retry: true,
  effect: { kind: 'cooldown', model: MODEL, until: now + ms, reason },
  reason: 'rpm',
})

function poolOf(n: number, maxFailures = 3) {
  const clock = { now: 1_000_000 }
  const pool = new KeyPool(
    Array.from({ length: n }, (_, i) => `AIzaSyKEY-${i}-xxxxxxxxxxxxxxxx`),
    { maxFailures, now: () => clock.now, idOf },
  )
  return { pool, clock }
}

const picks = (pool: KeyPool, count: number, model = MODEL) => Array.from({ length: count }, () => pool.pick(model)?.index)

describe('rotation (round robin)', () => {
  const keys: PoolKey[] = ['a', 'b', 'c'].map((id, index) => ({ id, label: id, secret: id, index }))

  it('cycles in order and skips excluded keys', () => {
    const rotation = createRotation(keys)
    expect([1, 2, 3, 4].map(() => rotation.next()?.id)).toEqual(['a', 'b', 'c', 'a'])
    expect(rotation.next(new Set(['b']))?.id).toBe('c')
    expect(rotation.next(new Set(['a', 'b', 'c']))).toBeUndefined()
  })

  it('removes and re-adds keys; a returning key is served last', () => {
    const rotation = createRotation(keys)
    rotation.remove(keys[0]!)
    expect([1, 2, 3].map(() => rotation.next()?.id)).toEqual(['b', 'c', 'b'])
    rotation.add(keys[0]!)
    expect([1, 2, 3].map(() => rotation.next()?.id)).toEqual(['c', 'b', 'a'])
    for (const key of keys) rotation.remove(key)
    expect(rotation.size).toBe(0)
    expect(rotation.next()).toBeUndefined()
  })
})

describe('key pool', () => {
  it('dedupes keys, ids are stable hashes, labels are masked', () => {
    const pool = new KeyPool(['AIzaSyAAAAAAAAAAAAAAAA1234', 'AIzaSyAAAAAAAAAAAAAAAA1234', 'short'], { maxFailures: 3, idOf })
    expect(pool.keys).toHaveLength(2)
    expect(pool.keys[0]!.id).toBe(idOf('AIzaSyAAAAAAAAAAAAAAAA1234'))
    expect(pool.keys[0]!.label).toBe('AIza...1234')
    expect(maskSecret('short')).toBe('s...')
    expect(JSON.stringify(pool.keys.map((k) => [k.id, k.label]))).not.toContain('AAAAAAAA')
  })

  it('round-robins over healthy keys', () => {
    const { pool } = poolOf(3)
    expect(picks(pool, 6)).toEqual([0, 1, 2, 0, 1, 2])
  })

  it('disables a key after MAX_FAILURES strikes; a success in between resets the count', () => {
    const { pool } = poolOf(2, 3)
    const key = pool.keys[0]!
    pool.apply(key, strike)
    pool.apply(key, strike)
    pool.apply(key, ok)
    pool.apply(key, strike)
    pool.apply(key, strike)
    expect(pool.health(key).disabled).toBeUndefined()
    pool.apply(key, strike)
    expect(pool.health(key).disabled?.reason).toContain('3 failures')
    expect(picks(pool, 3)).toEqual([1, 1, 1])
  })

  it('disables an invalid key at once and never hands it out; enable() brings it back', () => {
    const { pool } = poolOf(3)
    pool.apply(pool.keys[1]!, disable)
    expect(picks(pool, 4)).toEqual([0, 2, 0, 2])
    expect(pool.disabledKeys().map((k) => k.index)).toEqual([1])
    pool.enable(pool.keys[1]!)
    expect(new Set(picks(pool, 3))).toEqual(new Set([0, 1, 2]))
  })

  it('client errors never touch key health', () => {
    const { pool } = poolOf(1, 1)
    for (let i = 0; i < 5; i++) pool.apply(pool.keys[0]!, clientError)
    expect(pool.health(pool.keys[0]!)).toEqual({ strikes: 0, cooldowns: {} })
  })

  it('cools a key for one model only, until the deadline', () => {
    const { pool, clock } = poolOf(2)
    pool.apply(pool.keys[0]!, coolFor(30_000, clock.now))
    expect(picks(pool, 3)).toEqual([1, 1, 1])
    expect(picks(pool, 2, 'gemini-2.5-pro')).toEqual([0, 1])
    clock.now += 30_000
    expect(new Set(picks(pool, 2))).toEqual(new Set([0, 1]))
    expect(pool.health(pool.keys[0]!).cooldowns).toEqual({})
  })

  it('never shortens a running cooldown', () => {
    const { pool, clock } = poolOf(2)
    const key = pool.keys[0]!
    pool.apply(key, coolFor(60_000, clock.now))
    pool.apply(key, coolFor(5_000, clock.now))
    clock.now += 10_000
    expect(picks(pool, 2)).toEqual([1, 1])
    expect(pool.health(key).cooldowns[MODEL]!.until).toBe(1_000_000 + 60_000)
  })

  it('answers 429 with the earliest release when every key is cooling, 503 when all are disabled', () => {
    const { pool, clock } = poolOf(2)
    pool.apply(pool.keys[0]!, coolFor(40_000, clock.now))
    pool.apply(pool.keys[1]!, coolFor(20_000, clock.now))
    expect(pool.pick(MODEL)).toBeUndefined()
    expect(pool.unavailable(MODEL)).toMatchObject({ status: 429, retryAfterSeconds: 20 })
    for (const key of pool.keys) pool.apply(key, disable)
    expect(pool.unavailable('other-model')).toMatchObject({ status: 503 })
    expect(new KeyPool([], { maxFailures: 3, idOf }).unavailable(MODEL).message).toContain('No Gemini API keys')
  })

  it('restores saved health (disabled keys, live cooldowns) and drops expired ones', () => {
    const { pool, clock } = poolOf(3)
    pool.adopt(pool.keys[0]!, { strikes: 0, cooldowns: {}, disabled: { reason: 'invalid', at: 1 } })
    pool.adopt(pool.keys[1]!, { strikes: 1, cooldowns: { [MODEL]: { until: clock.now + 5_000, reason: 'rate-limited' }, old: { until: 1, reason: 'x' } } })
    expect(picks(pool, 2)).toEqual([2, 2])
    expect(pool.health(pool.keys[1]!).cooldowns).not.toHaveProperty('old')
  })

  it('picks in O(1): 5,000 keys with 4,000 cooling cost no more than 5 keys', () => {
    const { pool, clock } = poolOf(5_000)
    for (const key of pool.keys.slice(0, 4_000)) pool.apply(key, coolFor(60_000, clock.now, 'quota-exhausted'))
    const time = (p: KeyPool) => {
      const start = performance.now()
      for (let i = 0; i < 20_000; i++) p.pick(MODEL)
      return performance.now() - start
    }
    const small = poolOf(5).pool
    // Warm both up first, so the comparison is not the JIT's.
    time(pool)
    time(small)
    expect(time(pool)).toBeLessThan(time(small) * 5 + 20)
    expect(pool.pick(MODEL)!.index).toBeGreaterThanOrEqual(4_000)
  })

  it('backs the whole pool off when many keys are rate-limited at once (an IP-wide limit), and disables none', () => {
    const { pool, clock } = poolOf(8)
    for (const key of pool.keys.slice(0, 5)) pool.apply(key, coolFor(30_000, clock.now))
    expect(pool.pick(MODEL)).toBeUndefined()
    expect(pool.pick('another-model')).toBeUndefined()
    expect(pool.unavailable(MODEL)).toMatchObject({ status: 429, retryAfterSeconds: 30 })
    expect(pool.disabledKeys()).toHaveLength(0)
    clock.now += 30_000
    expect(pool.pick('another-model')).toBeDefined()
  })

  it('applies real judge verdicts end to end', () => {
    const { pool, clock } = poolOf(2)
    const body = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'quota',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '26s' }],
      },
    }
    pool.apply(pool.keys[0]!, judgeAttempt({ operation: 'generateContent', model: MODEL, now: clock.now, status: 429, body }))
    expect(pool.health(pool.keys[0]!).cooldowns[MODEL]!.until).toBe(clock.now + 26_000)
    expect(pool.health(pool.keys[0]!).strikes).toBe(0)
  })
})

describe('storm assessment', () => {
  const policy = DEFAULT_STORM_POLICY
  const events = (keys: number, at = 0, retryAfterMs = 20_000) => Array.from({ length: keys }, (_, i) => ({ at, keyId: `k${i}`, retryAfterMs }))
  it.each([
    { name: 'too few keys', events: events(4), enabled: 4, storm: false },
    { name: 'five of ten keys', events: events(5), enabled: 10, storm: true },
    { name: 'five of a thousand', events: events(5), enabled: 1000, storm: false },
    { name: 'events outside the window', events: events(6, -20_000), enabled: 6, storm: false },
    { name: 'same key repeated', events: Array.from({ length: 9 }, () => ({ at: 0, keyId: 'k', retryAfterMs: 1 })), enabled: 9, storm: false },
  ])('$name', ({ events, enabled, storm }) => {
    expect(assessStorm(events, 0, enabled, policy) !== undefined).toBe(storm)
  })
  it('backs off for the shortest delay seen, clamped', () => {
    expect(assessStorm(events(5, 0, 20_000), 0, 5, policy)).toBe(20_000)
    expect(assessStorm(events(5, 0, 10), 0, 5, policy)).toBe(1_000)
    expect(assessStorm(events(5, 0, 86_400_000), 0, 5, policy)).toBe(60_000)
  })
})

describe('bounded memory', () => {
  it('sweep drops cooldowns that ran out from every key and tells the store, without touching running ones', () => {
    const { pool, clock } = poolOf(2)
    const changed: string[] = []
    const watched = new KeyPool(
      pool.keys.map((k) => k.secret),
      { maxFailures: 3, now: () => clock.now, idOf, onChange: (key) => changed.push(key.id) },
    )
    const [a, b] = watched.keys as [PoolKey, PoolKey]
    watched.apply(a, coolFor(1_000, clock.now))
    watched.apply(b, coolFor(60_000, clock.now))
    changed.length = 0
    clock.now += 2_000
    watched.sweep()
    expect(watched.health(a).cooldowns).toEqual({})
    expect(Object.keys(watched.health(b).cooldowns)).toEqual([MODEL])
    expect(changed).toEqual([a.id])
  })

  it('remembers which models some key served, for a day, and forgets past that', () => {
    const { pool, clock } = poolOf(1)
    const key = pool.keys[0]!
    expect(pool.modelServed(MODEL)).toBe(false)
    pool.apply(key, ok, MODEL)
    expect(pool.modelServed(MODEL)).toBe(true)
    expect(pool.modelServed('constructor')).toBe(false)
    clock.now += 86_400_000
    pool.sweep()
    expect(pool.modelServed(MODEL)).toBe(false)
  })

  it('a passed probe stands for its time, and a reset or a disable forgets it', () => {
    const { pool, clock } = poolOf(1)
    const key = pool.keys[0]!
    pool.notePassed(key, MODEL, 60_000)
    expect(pool.passedRecently(key, MODEL)).toBe(true)
    clock.now += 60_001
    expect(pool.passedRecently(key, MODEL)).toBe(false)
    pool.notePassed(key, MODEL, 60_000)
    pool.reset(key)
    expect(pool.passedRecently(key, MODEL)).toBe(false)
    pool.notePassed(key, MODEL, 60_000)
    pool.apply(key, disable)
    expect(pool.passedRecently(key, MODEL)).toBe(false)
  })

  it('a model named after an Object.prototype member finds no cooldown', () => {
    const { pool } = poolOf(2)
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) expect(pool.pick(name)).toBeDefined()
    expect(pool.unavailable('constructor').status).toBe(503)
  })

  it('a confirm verdict changes nothing until it is settled', () => {
    const { pool } = poolOf(1)
    const key = pool.keys[0]!
    pool.apply(
      key,
      judgeAttempt({
        operation: 'generateContent',
        model: MODEL,
        now: 0,
        status: 403,
        body: { error: { code: 403, message: 'x', status: 'PERMISSION_DENIED' } },
      }),
    )
    expect(pool.health(key)).toEqual({ strikes: 0, cooldowns: {} })
  })
})
