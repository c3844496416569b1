/**
 * An IP-wide rate limit looks like this: many different keys answer 429 within seconds and none succeeds.
 * Cooling each key one by one would burn a request per key; instead the whole pool pauses briefly.
 * `assessStorm` is the pure decision; `StormDetector` only keeps the recent window it decides over.
 */
export interface StormPolicy {
  windowMs: number
  /** Fewer distinct keys than this never count as a storm (small pools just cool their keys). */
  minKeys: number
  /** Share of the enabled keys that must have been rate-limited inside the window. */
  fraction: number
  minBackoffMs: number
  maxBackoffMs: number
}

export const DEFAULT_STORM_POLICY: StormPolicy = { windowMs: 10_000, minKeys: 5, fraction: 0.5, minBackoffMs: 1_000, maxBackoffMs: 60_000 }

export interface RateLimitEvent {
  at: number
  keyId: string
  retryAfterMs: number
}

/** Returns when the pool may be used again, or undefined when the window does not look like a storm. */
export function assessStorm(events: readonly RateLimitEvent[], now: number, enabledKeys: number, policy: StormPolicy): number | undefined {
  const recent = events.filter((e) => now - e.at <= policy.windowMs)
  const distinct = new Set(recent.map((e) => e.keyId)).size
  if (distinct < policy.minKeys || distinct < Math.ceil(enabledKeys * policy.fraction)) return undefined
  const shortest = Math.min(...recent.map((e) => e.retryAfterMs))
  return now + Math.min(policy.maxBackoffMs, Math.max(policy.minBackoffMs, shortest))
}

export class StormDetector {
  #events: RateLimitEvent[] = []
  backoffUntil = 0

  constructor(readonly policy: StormPolicy = DEFAULT_STORM_POLICY) {}

  rateLimited(event: RateLimitEvent, enabledKeys: number): void {
    this.#events = this.#events.filter((e) => event.at - e.at <= this.policy.windowMs)
    this.#events.push(event)
    const until = assessStorm(this.#events, event.at, enabledKeys, this.policy)
    if (until !== undefined) {
      this.backoffUntil = Math.max(this.backoffUntil, until)
      this.#events = []
    }
  }

  /** Any success proves the IP is not blocked. */
  succeeded(): void {
    this.#events = []
  }
}
