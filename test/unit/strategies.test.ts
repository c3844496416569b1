import { describe, expect, it } from 'vitest'
import { createIdHasher } from '../../core/identity.ts'
import { adaptiveWeight } from '../../core/keys/internal/adaptive.ts'
import type { Verdict } from '../../core/keys/judge.ts'
import { KeyPool } from '../../core/keys/pool.ts'
import { createStrategy, keyWorked, STRATEGY_NAMES, type PoolKey, type StrategyName, type StrategyOptions } from '../../core/keys/strategies.ts'

const MODEL = 'gemini-2.5-flash'
const idOf = createIdHasher('test-deployment-secret-of-32-chars')

const plainKeys = (n: number): PoolKey[] => Array.from({ length: n }, (_, i) => ({ id: `k${i}`, label: `k${i}`, secret: `s${i}`, index: i }))

function poolOf(n: number, strategy: Omit<StrategyOptions, 'seed'> | StrategyName, clock = { now: 1_000_000 }) {
  const options = typeof strategy === 'string' ? { name: strategy } : strategy
  const pool = new KeyPool(
    Array.from({ length: n }, (_, i) => `AIzaSyKEY-${i}-xxxxxxxxxxxxxxxx`),
    { maxFailures: 3, now: () => clock.now, idOf, strategy: { ...options, seed: 42 } },
  )
  return { pool, clock }
}

const coolFor = (ms: number, now: number, reason: 'rate-limited' | 'quota-exhausted' = 'rate-limited'): Verdict => ({
  class: reason,
  retry: true,
  effect: { kind: 'cooldown', model: MODEL, until: now + ms, reason },
  reason,
})
const invalid: Verdict = { class: 'invalid-key', retry: true, effect: { kind: 'disable', reason: 'invalid' }, reason: 'invalid' }

/** How often each key index was picked in `count` picks, each request begun and ended as the pipeline does. */
function shares(pool: KeyPool, count: number, outcome: (key: PoolKey) => { judged?: Parameters<KeyPool['end']>[1]; latencyMs?: number } = () => ({})) {
  const counts = Array.from({ length: pool.keys.length }, () => 0)
  for (let i = 0; i < count; i++) {
    const key = pool.pick(MODEL)!
    counts[key.index]!++
    pool.begin(key)
    const { judged, latencyMs } = outcome(key)
    pool.end(key, judged, latencyMs)
  }
  return counts.map((c) => c / count)
}

describe.each(STRATEGY_NAMES)('every strategy keeps the pool’s bookkeeping: %s', (name) => {
  it('hands out only members, never an excluded key, nothing when all are excluded', () => {
    const keys = plainKeys(6)
    const strategy = createStrategy({ name, seed: 42 }, keys, new Map(keys.map((k) => [k.id, k])))
    const selector = strategy.create(keys.slice(0, 4))
    const exclude = new Set(['k0', 'k2'])
    for (let i = 0; i < 200; i++) {
      const key = selector.next(exclude)!
      expect(['k1', 'k3']).toContain(key.id)
      if (strategy.picked(key)) selector.update(key)
    }
    expect(selector.next(new Set(['k0', 'k1', 'k2', 'k3']))).toBeUndefined()
    selector.remove(keys[1]!)
    selector.remove(keys[3]!)
    expect(selector.next(exclude)).toBeUndefined()
    selector.add(keys[5]!)
    expect(selector.next(exclude)?.id).toBe('k5')
    expect(selector.size).toBe(3)
  })

  it('never picks a key cooling for the model, picks it for others, and takes it back when the cooldown ends', () => {
    const { pool, clock } = poolOf(3, name)
    pool.apply(pool.keys[1]!, coolFor(30_000, clock.now))
    const seen = new Set<number>()
    for (let i = 0; i < 300; i++) seen.add(pool.pick(MODEL)!.index)
    expect(seen).toEqual(new Set([0, 2]))
    const other = new Set<number>()
    for (let i = 0; i < 300; i++) other.add(pool.pick('gemini-2.5-pro')!.index)
    expect(other).toEqual(new Set([0, 1, 2]))
    clock.now += 30_000
    const back = new Set<number>()
    for (let i = 0; i < 300; i++) back.add(pool.pick(MODEL)!.index)
    expect(back).toEqual(new Set([0, 1, 2]))
  })

  it('never picks a disabled key; enable and reset bring keys back', () => {
    const { pool, clock } = poolOf(3, name)
    pool.apply(pool.keys[0]!, invalid)
    pool.apply(pool.keys[2]!, coolFor(30_000, clock.now))
    for (let i = 0; i < 100; i++) expect(pool.pick(MODEL)!.index).toBe(1)
    expect(pool.pick(MODEL, new Set([pool.keys[1]!.id]))).toBeUndefined()
    pool.enable(pool.keys[0]!)
    pool.reset(pool.keys[2]!)
    const seen = new Set<number>()
    for (let i = 0; i < 300; i++) seen.add(pool.pick(MODEL)!.index)
    expect(seen).toEqual(new Set([0, 1, 2]))
  })

  it('picks in O(1) or O(log n): 5,000 keys with 4,000 cooling cost about what 5 do', () => {
    const big = poolOf(5_000, name)
    for (const key of big.pool.keys.slice(0, 4_000)) big.pool.apply(key, coolFor(60_000, big.clock.now, 'quota-exhausted'))
    const small = poolOf(5, name).pool
    const time = (pool: KeyPool) => {
      const start = performance.now()
      for (let i = 0; i < 20_000; i++) {
        const key = pool.pick(MODEL)!
        pool.begin(key)
        pool.end(key, 'ok', 100)
      }
      return performance.now() - start
    }
    // Warm both up first, so the comparison is not the JIT's.
    time(big.pool)
    time(small)
    expect(time(big.pool)).toBeLessThan(time(small) * 8 + 30)
    expect(big.pool.pick(MODEL)!.index).toBeGreaterThanOrEqual(4_000)
  })
})

describe('least-in-flight', () => {
  it('picks the key with the fewest requests in flight; equal loads take turns', () => {
    const { pool } = poolOf(3, 'least-in-flight')
    const [a, b, c] = pool.keys as [PoolKey, PoolKey, PoolKey]
    expect([1, 2, 3, 4, 5, 6].map(() => pool.pick(MODEL)!.index)).toEqual([0, 1, 2, 0, 1, 2])
    pool.begin(a)
    pool.begin(a)
    pool.begin(c)
    expect(pool.pick(MODEL)).toBe(b)
    pool.begin(b)
    pool.begin(b)
    expect(pool.pick(MODEL)).toBe(c)
    pool.end(a)
    pool.end(a)
    expect(pool.pick(MODEL)).toBe(a)
    expect(pool.strategy.inFlight(b)).toBe(2)
    expect(pool.pick(MODEL, new Set([a.id]))).toBe(c)
  })

  it('spreads concurrent requests evenly, also over a model’s own set while keys cool', () => {
    const { pool, clock } = poolOf(4, 'least-in-flight')
    pool.apply(pool.keys[3]!, coolFor(60_000, clock.now))
    const open: PoolKey[] = []
    for (let i = 0; i < 9; i++) {
      const key = pool.pick(MODEL)!
      pool.begin(key)
      open.push(key)
    }
    expect(pool.keys.map((key) => pool.strategy.inFlight(key))).toEqual([3, 3, 3, 0])
    for (const key of open) pool.end(key)
    expect(pool.keys.map((key) => pool.strategy.inFlight(key))).toEqual([0, 0, 0, 0])
  })
})

describe('adaptive', () => {
  it.each([
    { success: 1, latency: Number.NaN, weight: 5_000, why: 'cold: fully successful at average speed' },
    { success: 1, latency: 0, weight: 10_000, why: 'instant' },
    { success: 1, latency: 1_000, weight: 5_000, why: 'average speed' },
    { success: 1, latency: 3_000, weight: 2_500, why: 'three times slower: half' },
    { success: 0.5, latency: 1_000, weight: 1_250, why: 'failing half the time: a quarter' },
    { success: 0, latency: 1_000, weight: 1, why: 'never starved' },
  ])('weight $weight: $why', ({ success, latency, weight }) => {
    expect(adaptiveWeight(success, latency)).toBe(weight)
  })

  it('sends less to a failing key and to a slow one, but never nothing', () => {
    const { pool } = poolOf(3, 'adaptive')
    const [failing, slow] = pool.keys as [PoolKey, PoolKey, PoolKey]
    const outcome = (key: PoolKey) =>
      key === failing ? { judged: 'upstream-error' as const } : { judged: 'ok' as const, latencyMs: key === slow ? 3_000 : 200 }
    shares(pool, 500, outcome) // learn
    const [f, s, fast] = shares(pool, 6_000, outcome) as [number, number, number]
    expect(fast).toBeGreaterThan(s)
    expect(s).toBeGreaterThan(f)
    // A tenth of the picks are uniform: the failing key keeps about a thirtieth, enough to notice it recovered.
    expect(f).toBeGreaterThan(0.02)
    expect(f).toBeLessThan(0.08)
  })

  it('a key that comes back from a cooldown or a disablement gets its share at once; cancels and client errors teach nothing', () => {
    const { pool, clock } = poolOf(2, 'adaptive')
    const [a] = pool.keys as [PoolKey, PoolKey]
    const aFails = (key: PoolKey) => (key === a ? { judged: 'upstream-error' as const } : { judged: 'ok' as const, latencyMs: 200 })
    expect(shares(pool, 2_000, aFails)[0]).toBeLessThan(0.15)
    pool.apply(a, coolFor(1_000, clock.now))
    clock.now += 1_000
    expect(shares(pool, 300, () => ({ judged: 'client-cancelled' }))[0]).toBeGreaterThan(0.35)
    shares(pool, 2_000, aFails)
    pool.apply(a, invalid)
    pool.enable(a)
    expect(shares(pool, 300, () => ({ judged: 'client-error' }))[0]).toBeGreaterThan(0.35)
    for (const judged of ['client-error', 'client-cancelled', 'gateway-error', 'model-unavailable'] as const) expect(keyWorked(judged)).toBeUndefined()
  })
})

describe('weighted', () => {
  it('shares picks by weight', () => {
    const { pool } = poolOf(2, { name: 'weighted', weights: {} })
    const weights = { [pool.keys[0]!.id]: 3, [pool.keys[1]!.id]: 1 }
    const weighted = poolOf(2, { name: 'weighted', weights }).pool
    const [a, b] = shares(weighted, 8_000) as [number, number]
    expect(a).toBeCloseTo(0.75, 1)
    expect(b).toBeCloseTo(0.25, 1)
  })

  it('paid keys last: weight 0 serves only when no key with a weight can', () => {
    const probe = poolOf(3, 'rotation').pool
    const paid = probe.keys[2]!.id
    const { pool, clock } = poolOf(3, { name: 'weighted', weights: { [paid]: 0 } })
    expect(shares(pool, 1_000)[2]).toBe(0)
    expect(pool.pick(MODEL, new Set([pool.keys[0]!.id, pool.keys[1]!.id]))?.id).toBe(paid)
    pool.apply(pool.keys[0]!, coolFor(60_000, clock.now))
    pool.apply(pool.keys[1]!, coolFor(60_000, clock.now))
    expect(pool.pick(MODEL)?.id).toBe(paid)
  })

  it('paid keys first: the pool’s weight 0, the paid key’s own 1; a key’s own weight beats its pool’s', () => {
    const probe = poolOf(3, 'rotation').pool
    const paid = probe.keys[1]!.id
    const { pool } = poolOf(3, { name: 'weighted', pool: 'gemini', weights: { gemini: 0, [paid]: 1 } })
    expect(shares(pool, 500)).toEqual([0, 1, 0])
    const rest = new Set<string>()
    for (let i = 0; i < 200; i++) rest.add(pool.pick(MODEL, new Set([paid]))!.id)
    expect(rest).toEqual(new Set([pool.keys[0]!.id, pool.keys[2]!.id]))
    // Weights of another pool do not apply here.
    expect(shares(poolOf(2, { name: 'weighted', pool: 'gemini', weights: { 'image-generation': 0 } }).pool, 2_000)[0]).toBeGreaterThan(0.4)
  })
})
