// Picking a key, per strategy, at 5,000 keys: in this process, no server, a second or two per strategy. Part of every
// `npm run bench`, and alone with `npm run bench -- --picking`. DESIGN.md wants it O(1) or O(log n) and allocation-free:
// each row sets the time at 5,000 keys beside the time at 5, and the bytes a pick allocates.
import v8 from 'node:v8'
import vm from 'node:vm'
import { createIdHasher } from '../core/identity.ts'
import type { Verdict } from '../core/keys/judge.ts'
import { KeyPool } from '../core/keys/pool.ts'
import { STRATEGY_NAMES, type StrategyName } from '../core/keys/strategies.ts'
import { table } from './report.ts'

const MODEL = 'gemini-2.5-flash'
const PICKS = 1_000_000
/** Few enough that the young generation holds what they allocate without a collection in between. */
const COUNTED_PICKS = 100_000
const idOf = createIdHasher('bench-deployment-secret-of-32-chars')

export interface PickTiming {
  strategy: StrategyName
  /** ns per pick with 5,000 keys, 4,000 of them cooling down for the model (it has a set of its own, as in production). */
  pickNs: number
  /** The same with 5 keys, 4 cooling. */
  smallPickNs: number
  /** ns per request's worth of key work at 5,000 keys: pick, begin, end with an outcome (what least-in-flight and adaptive learn from). */
  requestNs: number
  /** Bytes allocated per pick at 5,000 keys, none out for the model. */
  bytes: number
  /** The same with 4,000 cooling down. */
  coolingBytes: number
}

const quota = (now: number): Verdict => ({
  class: 'quota-exhausted',
  retry: true,
  effect: { kind: 'cooldown', model: MODEL, until: now + 3_600_000, reason: 'quota-exhausted' },
  reason: 'quota',
})

/** A pool of `size` keys under `strategy`; with `cooling`, four fifths of them out for MODEL for the hour. */
function poolOf(strategy: StrategyName, size: number, cooling: boolean): KeyPool {
  // For weighted: one key of weight 0 among those serving (it serves only when no other can), the rest the pool's 1.
  const weights = { gemini: 1, [idOf(`AIzaSyBENCH-${size - 1}-xxxxxxxxxxxxxxxx`)]: 0 }
  const pool = new KeyPool(
    Array.from({ length: size }, (_, i) => `AIzaSyBENCH-${i}-xxxxxxxxxxxxxxxx`),
    { maxFailures: 3, idOf, strategy: { name: strategy, weights, pool: 'gemini' } },
  )
  const now = Date.now()
  if (cooling) for (const key of pool.keys.slice(0, Math.floor((size * 4) / 5))) pool.apply(key, quota(now))
  return pool
}

function timePicks(pool: KeyPool, picks: number): number {
  const started = process.hrtime.bigint()
  for (let i = 0; i < picks; i++) pool.pick(MODEL)
  return Number(process.hrtime.bigint() - started) / picks
}

function timeRequests(pool: KeyPool, requests: number): number {
  const started = process.hrtime.bigint()
  for (let i = 0; i < requests; i++) {
    const key = pool.pick(MODEL)!
    pool.begin(key)
    pool.end(key, i % 10 === 0 ? 'upstream-error' : 'ok', 100 + (i % 50))
  }
  return Number(process.hrtime.bigint() - started) / requests
}

/** The heap's growth per pick over COUNTED_PICKS picks after a full collection. */
function bytesPerPick(pool: KeyPool, collect: () => void): number {
  timePicks(pool, COUNTED_PICKS)
  collect()
  const before = v8.getHeapStatistics().used_heap_size
  timePicks(pool, COUNTED_PICKS)
  return Math.max(0, v8.getHeapStatistics().used_heap_size - before) / COUNTED_PICKS
}

export function measurePicking(): PickTiming[] {
  v8.setFlagsFromString('--expose-gc')
  const collect = vm.runInNewContext('gc') as () => void
  const timings: PickTiming[] = []
  for (const strategy of STRATEGY_NAMES) {
    const big = poolOf(strategy, 5_000, true)
    const small = poolOf(strategy, 5, true)
    // Warm-up, so the JIT has compiled both before either is timed.
    timeRequests(big, PICKS / 10)
    timeRequests(small, PICKS / 10)
    const smallPickNs = timePicks(small, PICKS)
    const pickNs = timePicks(big, PICKS)
    const requestNs = timeRequests(big, PICKS)
    const coolingBytes = bytesPerPick(big, collect)
    const bytes = bytesPerPick(poolOf(strategy, 5_000, false), collect)
    timings.push({ strategy, pickNs, smallPickNs, requestNs, bytes, coolingBytes })
  }
  return timings
}

export function renderPicking(timings: PickTiming[]): string {
  const ns = (value: number) => `${value.toFixed(0)} ns`
  const bytes = (value: number) => (value < 1 ? '0' : value.toFixed(0))
  return [
    `Each strategy over ${PICKS.toLocaleString('en')} picks, 4 of 5 keys cooling down for the model (the selector that holds the rest is the one`,
    'picked from, as in production). Target: O(1) or O(log n), so 5,000 keys cost about what 5 do, and no garbage per pick. With keys out',
    'for the model a pick reads the clock to let back those whose time is up, and on Node 20 every Date.now() is a new 16-byte number.',
    '',
    table(
      ['strategy', 'pick, 5,000 keys', 'pick, 5 keys', 'pick + begin + end, 5,000 keys', 'bytes per pick, none out', 'bytes per pick, 4,000 out'],
      timings.map((t) => [t.strategy, ns(t.pickNs), ns(t.smallPickNs), ns(t.requestNs), bytes(t.bytes), bytes(t.coolingBytes)]),
    ),
  ].join('\n')
}
