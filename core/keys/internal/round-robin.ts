import type { PoolKey, Selector } from '../strategies.ts'

interface RingNode {
  key: PoolKey
  prev: RingNode
  next: RingNode
}

/**
 * Round robin: a circular doubly-linked list with a cursor. A key that comes back joins just behind the cursor
 * (served last). Every operation is O(1); next() is O(k) in the keys a request already tried.
 */
export class RoundRobin implements Selector {
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

  /** The order does not depend on anything but the turn. */
  update(): void {}

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
