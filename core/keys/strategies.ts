/**
 * Selection strategies. A selector holds the keys currently eligible for some model and hands out the next one; the
 * pool adds and removes keys as they cool down, get disabled or come back, and re-places a key in every selector
 * that holds it when the strategy says its standing changed (a request started or ended on it, an outcome came in).
 * Every strategy picks synchronously in O(1) or O(log n) without allocating, so thousands of keys cost about what
 * three do:
 *
 * - rotation: round robin (O(1)).
 * - least-in-flight: the key with the fewest requests in flight, ties taking turns (an indexed heap, O(log n)).
 * - adaptive: weighted random by each key's recent success rate and first-byte latency, a tenth of the picks uniform so
 *   cold and recovered keys keep getting traffic (a Fenwick tree, O(log n)).
 * - weighted: weighted random by weights the operator set per key id or per pool; weight 0 = only when no key with a
 *   weight can serve (paid keys last, or first when the pool's default is 0) (a Fenwick tree, O(log n)).
 */
import type { FailureClass } from './judge.ts'
import { AdaptiveStats } from './internal/adaptive.ts'
import { Draws } from './internal/draws.ts'
import { InFlightHeap } from './internal/in-flight-heap.ts'
import { RoundRobin } from './internal/round-robin.ts'
import { WeightedSampler } from './internal/weighted-sampler.ts'

export interface PoolKey {
  /** Stable short hash of the secret: what logs, storage and the admin UI use. */
  id: string
  /** Masked form for display (`AIza...x7Qm`). */
  label: string
  secret: string
  /** Position in the configured list. */
  index: number
}

/** The keys that may serve some model now, in the order a strategy hands them out. */
export interface Selector {
  readonly size: number
  has(key: PoolKey): boolean
  add(key: PoolKey): void
  remove(key: PoolKey): void
  /** The key's standing changed (its load, its weight): re-place it, if it is here. */
  update(key: PoolKey): void
  /** The next key not in `exclude`, or undefined when every eligible key is excluded. */
  next(exclude?: ReadonlySet<string>): PoolKey | undefined
}

export const STRATEGY_NAMES = ['rotation', 'adaptive', 'least-in-flight', 'weighted'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

export interface StrategyOptions {
  name: StrategyName
  /** For `weighted`: key id or pool name → weight ≥ 0 (a key's own beats its pool's; 1 when neither is set). */
  weights?: Readonly<Record<string, number>>
  /** The pool's name, for weights set per pool. */
  pool?: string
  /** The samplers' random seed (tests pass one; otherwise from Math.random). */
  seed?: number
}

/** One per pool: makes its selectors and keeps the per-key signals they order by. */
export interface Strategy {
  readonly name: StrategyName
  create(members: Iterable<PoolKey>): Selector
  // Each of these returns true when the key's place in the selectors changed: the pool then re-places it in each.
  /** `next()` handed the key out. */
  picked(key: PoolKey): boolean
  /** A request started on the key. */
  started(key: PoolKey): boolean
  /** That request ended: how the judge classed it (none when it was not judged) and its time to the first byte. */
  finished(key: PoolKey, judged?: FailureClass, latencyMs?: number): boolean
  /** The key is back after a cooldown, a disablement or a reset. */
  refreshed(key: PoolKey): boolean
  inFlight(key: PoolKey): number
}

/** Share of the adaptive strategy's picks made uniformly, so a key it rates low can show it recovered. */
const EXPLORATION = 0.1
/** Weights are kept as whole hundredths: exact sums in the sampler's tree, small enough to stay small integers. */
const WEIGHT_UNIT = 100

export function createStrategy(options: StrategyOptions | undefined, keys: readonly PoolKey[], byId: ReadonlyMap<string, PoolKey>): Strategy {
  const inFlight = new Int32Array(keys.length)
  const counting = {
    started: (key: PoolKey) => void inFlight[key.index]++,
    finished: (key: PoolKey) => void (inFlight[key.index] = Math.max(0, inFlight[key.index]! - 1)),
    inFlight: (key: PoolKey) => inFlight[key.index]!,
  }
  switch (options?.name ?? 'rotation') {
    case 'rotation':
      return {
        name: 'rotation',
        create: createRotation,
        picked: () => false,
        started: (key) => (counting.started(key), false),
        finished: (key) => (counting.finished(key), false),
        refreshed: () => false,
        inFlight: counting.inFlight,
      }
    case 'least-in-flight': {
      const load = { inFlight, turn: new Float64Array(keys.length) }
      let turn = 0
      return {
        name: 'least-in-flight',
        create: (members) => new InFlightHeap(keys, load, members),
        picked: (key) => ((load.turn[key.index] = ++turn), true),
        started: (key) => (counting.started(key), true),
        finished: (key) => (counting.finished(key), true),
        refreshed: () => false,
        inFlight: counting.inFlight,
      }
    }
    case 'adaptive': {
      const stats = new AdaptiveStats(keys.length)
      const sampler = { weightOf: (index: number) => stats.weight(index), explore: EXPLORATION, draws: new Draws(options?.seed) }
      return {
        name: 'adaptive',
        create: (members) => new WeightedSampler(keys, byId, sampler, members),
        picked: () => false,
        started: (key) => (counting.started(key), false),
        finished(key, judged, latencyMs) {
          counting.finished(key)
          const ok = judged && keyWorked(judged)
          if (ok === undefined) return false
          stats.observe(key.index, ok, latencyMs)
          return true
        },
        refreshed: (key) => (stats.forget(key.index), true),
        inFlight: counting.inFlight,
      }
    }
    case 'weighted': {
      const weights = Float64Array.from(keys, (key) => Math.round(weightOf(key, options) * WEIGHT_UNIT))
      const sampler = { weightOf: (index: number) => weights[index]!, explore: 0, draws: new Draws(options?.seed) }
      return {
        name: 'weighted',
        create: (members) => new WeightedSampler(keys, byId, sampler, members),
        picked: () => false,
        started: (key) => (counting.started(key), false),
        finished: (key) => (counting.finished(key), false),
        refreshed: () => false,
        inFlight: counting.inFlight,
      }
    }
  }
}

/** Round robin over `keys`: the rotation strategy's selector. */
export function createRotation(keys: Iterable<PoolKey> = []): Selector {
  return new RoundRobin(keys)
}

/** A key's operator-set weight: its own, else its pool's, else 1. Own entries only (an id named `constructor`). */
function weightOf(key: PoolKey, options: StrategyOptions | undefined): number {
  const weights = options?.weights
  if (!weights) return 1
  if (Object.hasOwn(weights, key.id)) return weights[key.id]!
  if (options.pool !== undefined && Object.hasOwn(weights, options.pool)) return weights[options.pool]!
  return 1
}

/** Classes that say nothing about the key itself (the request's fault, a cancel, our own failure, one model's access). */
const SAYS_NOTHING: ReadonlySet<FailureClass> = new Set(['client-error', 'client-cancelled', 'gateway-error', 'model-unavailable'])

/** Whether a judged attempt shows its key working (true) or failing (false); undefined when it shows nothing. */
export function keyWorked(judged: FailureClass): boolean | undefined {
  if (judged === 'ok') return true
  return SAYS_NOTHING.has(judged) ? undefined : false
}
