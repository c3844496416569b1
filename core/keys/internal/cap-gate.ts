import type { Usage } from '../../context.ts'
import type { CapStop, KeyCaps } from '../caps.ts'
import type { PoolKey } from '../strategies.ts'
import type { ModelSets } from './model-sets.ts'

export interface CapGate {
  admit(key: PoolKey, model: string): Promise<boolean> | undefined
  countTokens(key: PoolKey, model: string, usage: Usage | undefined): void
}

/**
 * Between a pool and its caps: counts a key's requests and tokens, and keeps the key (or the whole pool) from a model
 * whose cap it reached until the cap's window ends. Counters that fail let the request go: Google still enforces its
 * own quotas.
 */
export function createCapGate(caps: KeyCaps, sets: ModelSets, now: () => number): CapGate {
  const stop = (key: PoolKey, model: string, stops: readonly CapStop[]) => {
    for (const { scope, until, reason } of stops) {
      if (scope === 'pool') sets.holdPool(model, until, reason)
      else sets.hold(key, model, until, now())
    }
  }
  return {
    admit(key, model) {
      const limits = caps.limits(key, model)
      if (!limits) return undefined
      return caps.admit(key, model, limits, now()).then(
        (stops) => !stops || (stop(key, model, stops), false),
        () => true,
      )
    },
    countTokens(key, model, usage) {
      const limits = caps.limits(key, model)
      const tokens = usage?.promptTokens
      if (!limits || !tokens) return
      caps.countTokens(key, model, limits, tokens, now()).then(
        (stops) => stops && stop(key, model, stops),
        () => {},
      )
    },
  }
}
