import type { PoolKey, Selector } from '../strategies.ts'
import { DRAW_RANGE, type Draws } from './draws.ts'

export interface SamplerOptions {
  /**
   * A key's weight as a whole number ≥ 0: whole numbers keep the tree's sums exact however often they change, and
   * sums below 2^30 stay small integers (no number allocated per pick).
   */
  weightOf(index: number): number
  /** The share of picks made uniformly among the members, whatever their weights (exploration). */
  explore: number
  draws: Draws
}

/** Draws before a uniform pick that keeps hitting excluded keys falls back to a scan. */
const UNIFORM_TRIES = 8

/**
 * Weighted random choice: a Fenwick tree of the members' weights over key indexes, so a draw and a weight change are
 * O(log n), and a dense array of the members for uniform draws in O(1). The keys a request already tried are taken
 * out of the tree for the draw and put back (O(k log n)). When no member with a positive weight is left, the draw
 * is uniform among the rest: keys of weight 0 serve only when nothing else can.
 */
export class WeightedSampler implements Selector {
  /** 1-based Fenwick tree: tree[i] sums the weights of a range of indexes ending at i - 1. */
  readonly #tree: Float64Array
  /** The weight each index has in the tree now (0 for a non-member). */
  readonly #weight: Float64Array
  readonly #members: Int32Array
  /** Key index → position in #members, -1 when not a member. */
  readonly #slot: Int32Array
  readonly #topStep: number
  /** Draws below this explore. */
  readonly #exploreBelow: number
  #count = 0
  #total = 0

  constructor(
    private readonly keys: readonly PoolKey[],
    private readonly byId: ReadonlyMap<string, PoolKey>,
    private readonly options: SamplerOptions,
    members: Iterable<PoolKey>,
  ) {
    const n = keys.length
    this.#tree = new Float64Array(n + 1)
    this.#weight = new Float64Array(n)
    this.#members = new Int32Array(n)
    this.#slot = new Int32Array(n).fill(-1)
    let step = 1
    while (step * 2 <= n) step *= 2
    this.#topStep = step
    this.#exploreBelow = Math.floor(options.explore * DRAW_RANGE)
    for (const key of members) this.add(key)
  }

  get size(): number {
    return this.#count
  }

  has(key: PoolKey): boolean {
    return this.#slot[key.index]! >= 0
  }

  add(key: PoolKey): void {
    const index = key.index
    if (this.#slot[index]! >= 0) return
    this.#members[this.#count] = index
    this.#slot[index] = this.#count++
    this.#setWeight(index, this.options.weightOf(index))
  }

  remove(key: PoolKey): void {
    const index = key.index
    const slot = this.#slot[index]!
    if (slot < 0) return
    const last = this.#members[--this.#count]!
    this.#members[slot] = last
    this.#slot[last] = slot
    this.#slot[index] = -1
    this.#setWeight(index, 0)
  }

  update(key: PoolKey): void {
    if (this.has(key)) this.#setWeight(key.index, this.options.weightOf(key.index))
  }

  next(exclude?: ReadonlySet<string>): PoolKey | undefined {
    if (this.#count === 0) return undefined
    const draws = this.options.draws
    if (draws.next() < this.#exploreBelow) return this.#uniform(exclude)
    if (exclude) for (const id of exclude) this.#zero(id)
    const total = this.#total
    const index = total > 0 ? this.#find(Math.floor((draws.next() / DRAW_RANGE) * total)) : -1
    if (exclude) for (const id of exclude) this.#restore(id)
    return index >= 0 ? this.keys[index] : this.#uniform(exclude)
  }

  #zero(id: string): void {
    const key = this.byId.get(id)
    if (key && this.#slot[key.index]! >= 0) this.#setWeight(key.index, 0)
  }

  #restore(id: string): void {
    const key = this.byId.get(id)
    if (key && this.#slot[key.index]! >= 0) this.#setWeight(key.index, this.options.weightOf(key.index))
  }

  /** A member not in `exclude`, each as likely as any other (a draw modulo a count of keys is as good as even). */
  #uniform(exclude: ReadonlySet<string> | undefined): PoolKey | undefined {
    const count = this.#count
    const draws = this.options.draws
    for (let i = 0; i < UNIFORM_TRIES; i++) {
      const key = this.keys[this.#members[draws.next() % count]!]!
      if (!exclude?.has(key.id)) return key
    }
    // Nearly every member is excluded: look at each once, from a random start.
    const start = draws.next() % count
    for (let i = 0; i < count; i++) {
      const key = this.keys[this.#members[(start + i) % count]!]!
      if (!exclude?.has(key.id)) return key
    }
    return undefined
  }

  #setWeight(index: number, weight: number): void {
    const delta = weight - this.#weight[index]!
    if (delta === 0) return
    this.#weight[index] = weight
    this.#total += delta
    const tree = this.#tree
    for (let i = index + 1; i < tree.length; i += i & -i) tree[i] += delta
  }

  /** The index whose range of the cumulative weights holds `target` (0 ≤ target < total). */
  #find(target: number): number {
    const tree = this.#tree
    let at = 0
    for (let step = this.#topStep; step > 0; step >>= 1) {
      const next = at + step
      if (next < tree.length && tree[next]! <= target) {
        at = next
        target -= tree[next]!
      }
    }
    return at
  }
}
