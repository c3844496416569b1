// Why no key can serve, as the client should hear it: the pool's refusals for a model, and for a request pinned to one key.
import type { KeyHealth, PoolKey } from '../pool.ts'
import type { ModelSets } from './model-sets.ts'

export interface Unavailable {
  status: 429 | 503
  retryAfterSeconds?: number
  /** For a 429: when (epoch ms) the first key may serve again. */
  until?: number
  message: string
}

/** What the pool knows that its refusals are made of. */
export interface PoolState {
  keys: readonly PoolKey[]
  health(key: PoolKey): KeyHealth
  /** Until when the whole pool backs off from an IP-wide rate limit. */
  backoffUntil: number
  sets: ModelSets
}

/** Own entries only: a model named `constructor` must not find Object's. */
export const cooldownOf = (health: KeyHealth, model: string) => (Object.hasOwn(health.cooldowns, model) ? health.cooldowns[model] : undefined)

/** Why the pool has no key for `model`: 429 with when the first frees up while keys are only out for a time, else 503. */
export function whyUnavailable(pool: PoolState, model: string, now: number): Unavailable {
  const { keys, sets } = pool
  if (keys.length === 0) return { status: 503, message: 'No Gemini API keys are configured (API_KEYS is empty).' }
  if (now < pool.backoffUntil) {
    return {
      ...retryAt(pool.backoffUntil, now),
      message: 'Google is rate-limiting this gateway across many keys at once (an IP-wide limit); the pool is backing off.',
    }
  }
  if (sets.enabled.size === 0) {
    return { status: 503, message: `All ${keys.length} API keys are disabled (invalid, suspended or out of credit); they are re-checked on a schedule.` }
  }
  const poolHold = sets.poolHold(model)
  if (poolHold) {
    const retry = retryAt(poolHold.until, now)
    return { ...retry, message: `${capitalized(poolHold.reason)}; it resets in ${retry.retryAfterSeconds}s.` }
  }
  let earliest = Infinity
  for (const key of keys) {
    const health = pool.health(key)
    if (health.disabled) continue
    const until = Math.max(cooldownOf(health, model)?.until ?? 0, sets.heldUntil(key, model))
    if (until > now) earliest = Math.min(earliest, until)
  }
  if (earliest !== Infinity && !sets.selector(model).size) {
    const retry = retryAt(earliest, now)
    return {
      ...retry,
      message: `Every enabled API key is rate-limited, out of quota or at its cap for ${model}; the first one frees up in ${retry.retryAfterSeconds}s.`,
    }
  }
  return { status: 503, message: `No API key could serve ${model}: every available key failed for this request.` }
}

/** Why a key (its health; undefined when it is gone) may not serve `model` now, or undefined when it may. */
export function pinnedUnavailable(health: KeyHealth | undefined, model: string, backoffUntil: number, now: number): Unavailable | undefined {
  if (!health) return { status: 503, message: 'is no longer configured' }
  if (health.disabled) return { status: 503, message: `is disabled (${health.disabled.reason})` }
  const until = Math.max(backoffUntil, cooldownOf(health, model)?.until ?? 0)
  if (until <= now) return undefined
  const retry = retryAt(until, now)
  return { ...retry, message: `is rate-limited for ${model || 'now'} for ${retry.retryAfterSeconds}s more` }
}

function retryAt(until: number, now: number): { status: 429; retryAfterSeconds: number; until: number } {
  return { status: 429, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)), until }
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)
