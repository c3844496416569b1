import type { Storage } from 'unstorage'
import type { KeyHealth, KeyPool, PoolKey } from './pool.ts'

/**
 * Keeps key health in the shared key-value state (memory by default, Redis when several instances share it).
 * Writes are coalesced per key and leave off the request path; a failing store is logged, never thrown.
 */
export interface KeyHealthStore {
  /** Pool onChange callback. */
  save(key: PoolKey, health: KeyHealth): void
  /** Reads back what an earlier run (or another instance) stored. */
  load(pool: KeyPool): Promise<number>
  flush(): Promise<void>
}

const PREFIX = 'keys:health:'

export function createKeyHealthStore(storage: Storage, onError: (error: unknown) => void): KeyHealthStore {
  const dirty = new Map<string, KeyHealth>()
  let scheduled: Promise<void> | undefined

  const flush = async (): Promise<void> => {
    const batch = [...dirty]
    dirty.clear()
    await Promise.all(
      batch.map(([id, health]) => storage.setItem(PREFIX + id, JSON.parse(JSON.stringify(health))).catch(onError)),
    )
  }

  return {
    save(key, health) {
      dirty.set(key.id, health)
      scheduled ??= new Promise<void>((resolve) => setImmediate(resolve))
        .then(flush)
        .finally(() => (scheduled = undefined))
    },
    async load(pool) {
      let restored = 0
      const items = await storage.getItems(pool.keys.map((key) => PREFIX + key.id)).catch((error) => {
        onError(error)
        return []
      })
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
