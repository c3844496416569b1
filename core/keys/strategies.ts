/**
 * Selection strategies. A rotation holds the keys currently eligible for some model and hands out the next one;
 * the pool adds and removes keys as they cool down, get disabled or come back. Every operation is O(1)
 * (next() is O(k) in the keys a request already tried, which MAX_RETRIES bounds), so thousands of keys cost
 * the same per pick as three.
 */
export interface PoolKey {
  /** Stable short hash of the secret: what logs, storage and the admin UI use. */
  id: string
  /** Masked form for display (`AIza...x7Qm`). */
  label: string
  secret: string
  /** Position in the configured list. */
  index: number
}

export interface Rotation {
  readonly size: number
  has(key: PoolKey): boolean
  add(key: PoolKey): void
  remove(key: PoolKey): void
  /** The next key not in `exclude`, or undefined when every eligible key is excluded. */
  next(exclude?: ReadonlySet<string>): PoolKey | undefined
}

/** Round robin, the one strategy today; smarter ones (adaptive, least in flight) implement the same interface. */
export function createRotation(keys: Iterable<PoolKey> = []): Rotation {
  return new RoundRobin(keys)
}

interface RingNode {
  key: PoolKey
  prev: RingNode
  next: RingNode
}

/** A circular doubly-linked list with a cursor: a key that comes back joins just behind the cursor (served last). */
class RoundRobin implements Rotation {
  readonly #nodes = new Map<string, RingNode>()
  #cursor: RingNode | undefined

  constructor(keys: Iterable<PoolKey>) {
    for (const key of keys) this.add(key)
  }

  get size(): number {
    return this.#nodes.size
  }

  has(key: PoolKey): boolean {
    return this.#nodes.has(key.id)
  }

  add(key: PoolKey): void {
    if (this.#nodes.has(key.id)) return
    const node = { key } as RingNode
    const cursor = this.#cursor
    if (!cursor) {
      node.prev = node.next = node
      this.#cursor = node
    } else {
      node.prev = cursor.prev
      node.next = cursor
      cursor.prev.next = node
      cursor.prev = node
    }
    this.#nodes.set(key.id, node)
  }

  remove(key: PoolKey): void {
    const node = this.#nodes.get(key.id)
    if (!node) return
    this.#nodes.delete(key.id)
    if (this.#nodes.size === 0) {
      this.#cursor = undefined
      return
    }
    node.prev.next = node.next
    node.next.prev = node.prev
    if (this.#cursor === node) this.#cursor = node.next
  }

  next(exclude?: ReadonlySet<string>): PoolKey | undefined {
    let node = this.#cursor
    for (let seen = 0; node && seen < this.#nodes.size; seen++, node = node.next) {
      if (exclude?.has(node.key.id)) continue
      this.#cursor = node.next
      return node.key
    }
    return undefined
  }
}
