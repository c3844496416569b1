/**
 * The adaptive strategy's view of each key: moving averages of its recent success and of its time to the first
 * byte. Weights are whole numbers for the sampler; a cold key (no outcome yet) and a key that just came back count as
 * fully successful at an average speed, so they get their share at once and prove themselves on real traffic.
 */

/** Weight of the newest outcome in the moving averages (about the last ten outcomes count). */
const ALPHA = 0.2
/** The first-byte latency of an average key (speed factor 1): an instant one counts 2, one three times slower 0.5. */
const REFERENCE_LATENCY_MS = 1_000
/** Scale of the whole-number weights: the best possible key weighs this much, the worst 1 (sums stay small integers). */
const WEIGHT_SCALE = 10_000

/**
 * A key's weight from its success rate (0-1) and its first-byte latency in ms (NaN: not known yet). Success counts
 * squared: a key failing half the time gets a quarter of the traffic of a sound one, not half. Never below 1, so
 * no key is starved (the sampler's uniform exploration does the rest).
 */
export function adaptiveWeight(success: number, latencyMs: number): number {
  const speed = Number.isNaN(latencyMs) ? 1 : (2 * REFERENCE_LATENCY_MS) / (REFERENCE_LATENCY_MS + Math.max(0, latencyMs))
  return Math.max(1, Math.round((success * success * speed * WEIGHT_SCALE) / 2))
}

export class AdaptiveStats {
  readonly #success: Float64Array
  readonly #latency: Float64Array

  constructor(size: number) {
    this.#success = new Float64Array(size).fill(1)
    this.#latency = new Float64Array(size).fill(Number.NaN)
  }

  /** Folds one outcome in; `latencyMs` only for a success (a failure's timing says little about the key's speed). */
  observe(index: number, ok: boolean, latencyMs?: number): void {
    this.#success[index] = this.#success[index]! * (1 - ALPHA) + (ok ? ALPHA : 0)
    if (!ok || latencyMs === undefined) return
    const previous = this.#latency[index]!
    this.#latency[index] = Number.isNaN(previous) ? latencyMs : previous * (1 - ALPHA) + latencyMs * ALPHA
  }

  /** The key is back from a cooldown or a disablement: its past failures no longer say much. */
  forget(index: number): void {
    this.#success[index] = 1
  }

  weight(index: number): number {
    return adaptiveWeight(this.#success[index]!, this.#latency[index]!)
  }
}
