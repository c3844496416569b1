/** Draws are whole numbers 0 ≤ n < DRAW_RANGE. */
export const DRAW_RANGE = 2 ** 31

/**
 * Random whole numbers for the samplers (xorshift32): plenty for spreading load, and unlike Math.random() through a
 * function they allocate no number per draw. Seeded from Math.random unless a seed is given (tests).
 */
export class Draws {
  readonly #state = new Int32Array(1)

  constructor(seed?: number) {
    this.#state[0] = (seed ?? Math.random() * DRAW_RANGE) | 1
  }

  /** 0 ≤ n < DRAW_RANGE. */
  next(): number {
    let x = this.#state[0]!
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#state[0] = x
    return x >>> 1
  }
}
