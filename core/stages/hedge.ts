/**
 * Hedged requests: when the first key has not answered within a bound, the same request goes to a second key and
 * the first answer to arrive wins; the other is cancelled. The bound is fixed, or the recent p95 of the model's time
 * to the first byte. Only operations that are safe to send twice are hedged (generating, counting, embedding), never
 * one that makes something (a file, a batch, an image).
 */

export type HedgeMode = 'off' | 'fixed' | 'p95'

export interface HedgeOptions {
  mode: Exclude<HedgeMode, 'off'>
  /** The bound in ms: for 'fixed' always, for 'p95' until the model has enough first-byte times of its own. */
  afterMs: number
}

export interface Hedging {
  /** Whether requests of this operation are hedged. */
  applies(operation: string): boolean
  /** How long the first attempt on `model` may take to its first byte before a second starts. */
  delayFor(model: string): number
  /** A successful attempt's time to its first byte; undefined when the bound does not learn from them. */
  readonly observe: ((model: string, ms: number) => void) | undefined
}

const HEDGED = new Set(['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents', 'openai.chat', 'openai.embeddings'])
/** First-byte times kept per model, and how many a model needs before its p95 replaces the fixed bound. */
const SAMPLES = 256
const MIN_SAMPLES = 20
/** The p95 is sorted out again after this many new samples, not on every one. */
const RESORT_EVERY = 16
const MAX_MODELS = 256

export function createHedging({ mode, afterMs }: HedgeOptions): Hedging {
  const windows = new Map<string, LatencyWindow>()
  return {
    applies: (operation) => HEDGED.has(operation),
    delayFor(model) {
      if (mode === 'fixed') return afterMs
      return windows.get(model)?.p95() ?? afterMs
    },
    observe:
      mode === 'fixed'
        ? undefined
        : (model, ms) => {
            let window = windows.get(model)
            if (!window) {
              if (windows.size >= MAX_MODELS) windows.clear()
              window = new LatencyWindow()
              windows.set(model, window)
            }
            window.add(ms)
          },
  }
}

/** The latest SAMPLES times of one model and their 95th percentile. */
export class LatencyWindow {
  static readonly #scratch = new Float64Array(SAMPLES)
  readonly #ring = new Float64Array(SAMPLES)
  #count = 0
  #next = 0
  #sinceSort = 0
  #p95: number | undefined

  add(ms: number): void {
    this.#ring[this.#next] = ms
    this.#next = (this.#next + 1) % SAMPLES
    this.#count = Math.min(SAMPLES, this.#count + 1)
    if (++this.#sinceSort >= RESORT_EVERY) this.#p95 = undefined
  }

  /** Undefined until MIN_SAMPLES times are in. */
  p95(): number | undefined {
    if (this.#count < MIN_SAMPLES) return undefined
    if (this.#p95 === undefined) {
      const sorted = LatencyWindow.#scratch.subarray(0, this.#count)
      sorted.set(this.#ring.subarray(0, this.#count))
      sorted.sort()
      this.#p95 = sorted[Math.ceil(0.95 * this.#count) - 1]!
      this.#sinceSort = 0
    }
    return this.#p95
  }
}

/** One attempt in a race. */
export interface Entrant<T> {
  /** Never rejects: failures are results too. */
  readonly settled: Promise<T>
  cancel(): void
}

const TIMED_OUT = Symbol('timed out')

/**
 * Races `first` against a second attempt that `startSecond` makes when `first` has not settled within `delayMs`
 * (it may find no key and return undefined). Returns the results in the order they settled, up to the first
 * decisive one; the entrant still running then is cancelled and returned as `loser`, for the caller to clean up.
 */
export async function race<T, E extends Entrant<T>>(
  first: E,
  delayMs: number,
  startSecond: () => Promise<E | undefined>,
  decisive: (result: T) => boolean,
): Promise<{ results: T[]; started: number; loser?: E }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, delayMs, TIMED_OUT)))
  const early = await Promise.race([first.settled, timeout])
  clearTimeout(timer)
  if (early !== TIMED_OUT) return { results: [early], started: 1 }
  const second = await startSecond()
  if (!second) return { results: [await first.settled], started: 1 }
  const entrants = [first, second]
  const [winner, result] = await Promise.race(entrants.map((entrant, index) => entrant.settled.then((settled) => [index, settled] as const)))
  const other = entrants[1 - winner]!
  if (decisive(result)) {
    other.cancel()
    return { results: [result], started: 2, loser: other }
  }
  return { results: [result, await other.settled], started: 2 }
}
