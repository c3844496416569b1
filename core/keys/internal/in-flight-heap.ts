import type { PoolKey, Selector } from '../strategies.ts'

/** What the heap orders by, per key index: requests in flight, then the turn it was last picked at (oldest first). */
export interface Load {
  readonly inFlight: Int32Array
  readonly turn: Float64Array
}

/**
 * Least in flight: an indexed binary min-heap of key indexes, ordered by requests in flight, then by the turn each
 * was last picked at, so keys with equal load take turns. A key's load changing is one sift, O(log n). Excluded keys
 * at the top are lifted out and put back (O(k log n) for the k keys a request already tried). No allocation after
 * construction, except a larger scratch when a request excludes more keys than any before.
 */
export class InFlightHeap implements Selector {
  readonly #heap: Int32Array
  /** Key index → position in the heap, -1 when not in it. */
  readonly #pos: Int32Array
  #size = 0
  #lifted = new Int32Array(8)

  constructor(
    private readonly keys: readonly PoolKey[],
    private readonly load: Load,
    members: Iterable<PoolKey>,
  ) {
    this.#heap = new Int32Array(keys.length)
    this.#pos = new Int32Array(keys.length).fill(-1)
    for (const key of members) this.add(key)
  }

  get size(): number {
    return this.#size
  }

  has(key: PoolKey): boolean {
    return this.#pos[key.index]! >= 0
  }

  add(key: PoolKey): void {
    if (this.has(key)) return
    this.#insert(key.index)
  }

  remove(key: PoolKey): void {
    const at = this.#pos[key.index]!
    if (at >= 0) this.#removeAt(at)
  }

  update(key: PoolKey): void {
    const at = this.#pos[key.index]!
    if (at < 0) return
    this.#siftDown(this.#siftUp(at))
  }

  next(exclude?: ReadonlySet<string>): PoolKey | undefined {
    if (this.#size === 0) return undefined
    if (!exclude || exclude.size === 0) return this.keys[this.#heap[0]!]
    if (this.#lifted.length < exclude.size) this.#lifted = new Int32Array(exclude.size)
    let lifted = 0
    let found: PoolKey | undefined
    while (this.#size > 0) {
      const top = this.keys[this.#heap[0]!]!
      if (!exclude.has(top.id)) {
        found = top
        break
      }
      this.#lifted[lifted++] = top.index
      this.#removeAt(0)
    }
    for (let i = 0; i < lifted; i++) this.#insert(this.#lifted[i]!)
    return found
  }

  #less(a: number, b: number): boolean {
    const { inFlight, turn } = this.load
    if (inFlight[a] !== inFlight[b]) return inFlight[a]! < inFlight[b]!
    if (turn[a] !== turn[b]) return turn[a]! < turn[b]!
    return a < b
  }

  #insert(index: number): void {
    this.#heap[this.#size] = index
    this.#pos[index] = this.#size
    this.#siftUp(this.#size++)
  }

  #removeAt(at: number): void {
    const heap = this.#heap
    this.#pos[heap[at]!] = -1
    const last = heap[--this.#size]!
    if (at === this.#size) return
    heap[at] = last
    this.#pos[last] = at
    this.#siftDown(this.#siftUp(at))
  }

  #siftUp(at: number): number {
    const heap = this.#heap
    const item = heap[at]!
    while (at > 0) {
      const parent = (at - 1) >> 1
      if (!this.#less(item, heap[parent]!)) break
      heap[at] = heap[parent]!
      this.#pos[heap[at]!] = at
      at = parent
    }
    heap[at] = item
    this.#pos[item] = at
    return at
  }

  #siftDown(at: number): void {
    const heap = this.#heap
    const item = heap[at]!
    for (;;) {
      const left = 2 * at + 1
      if (left >= this.#size) break
      const right = left + 1
      const child = right < this.#size && this.#less(heap[right]!, heap[left]!) ? right : left
      if (!this.#less(heap[child]!, item)) break
      heap[at] = heap[child]!
      this.#pos[heap[at]!] = at
      at = child
    }
    heap[at] = item
    this.#pos[item] = at
  }
}
