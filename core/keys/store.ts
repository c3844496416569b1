import type { Storage } from 'unstorage'
import type { KeyHealth, KeyPool, PoolKey } from './pool.ts'

/**
 * Keeps key health in the shared key-value state (memory by default, Redis when several instances share it).
 * Writes are coalesced per key and leave off the request path. A failing store never throws: the pool keeps the
 * state in memory, writes that failed are tried again with the next write (or flush), and an outage is reported
 * once when it starts and once when it ends, not per call.
 */
export interface KeyHealthStore {
  /** Pool onChange callback. */
  save(key: PoolKey, health: KeyHealth): void
  /** Reads back what an earlier run (or another instance) stored. */
  load(pool: KeyPool): Promise<number>
  flush(): Promise<void>
}

export interface KeyHealthStoreEvents {
  /** The first failure of an outage. */
  onError(error: unknown): void
  /** The first success after an outage. */
  onRecover?(): void
}

const PREFIX = 'keys:health:'

export function createKeyHealthStore(storage: Storage, events: KeyHealthStoreEvents): KeyHealthStore {
  const dirty = new Map<string, KeyHealth>()
  let scheduled: Promise<void> | undefined
  let failing = false

  const failed = (error: unknown) => {
    if (!failing) events.onError(error)
    failing = true
  }
  const worked = () => {
    if (failing) events.onRecover?.()
    failing = false
  }

  const flush = async (): Promise<void> => {
    const batch = [...dirty]
    dirty.clear()
    await Promise.all(
      batch.map(([id, health]) =>
        storage.setItem(PREFIX + id, JSON.parse(JSON.stringify(health))).then(worked, (error) => {
          // Kept for the next write, unless a newer state of that key is already waiting.
          if (!dirty.has(id)) dirty.set(id, health)
          failed(error)
        }),
      ),
    )
  }

  return {
    save(key, health) {
      dirty.set(key.id, health)
      scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => (scheduled = undefined))
    },
    async load(pool) {
      let restored = 0
      const items = await storage.getItems(pool.keys.map((key) => PREFIX + key.id)).then(
        (found) => {
          worked()
          return found
        },
        (error) => {
          failed(error)
          return []
        },
      )
      for (const { key: name, value } of items) {
        const key = pool.get(name.slice(name.lastIndexOf(':') + 1))
        const saved = value as Partial<KeyHealth> | null
        if (!key || !saved || typeof saved !== 'object') continue
        pool.restore(key, { strikes: saved.strikes ?? 0, cooldowns: saved.cooldowns ?? {}, disabled: saved.disabled, lastFailure: saved.lastFailure })
        restored++
      }
      return restored
    },
    async flush() {
      await scheduled
      await flush()
    },
  }
}
