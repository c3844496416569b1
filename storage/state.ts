// Key-value state that several gateway instances can share (key health, console and upload sessions): in process
// memory by default; in Redis over a connection its owner (core/shared) opened, so that one connection, and one
// report of an outage, serve this, the counters, the messages and the leases. unstorage's own Redis driver cannot be
// handed a connection (it opens its own from options), hence the small driver below. Values are JSON text in Redis,
// so the keys are readable with redis-cli. unstorage has no atomic increment: counters use the raw client (Lua).
import type Redis from 'ioredis'
import { createStorage, defineDriver, joinKeys, type Storage } from 'unstorage'
import memoryDriver from 'unstorage/drivers/memory'

export interface StateStorageOptions {
  /** An ioredis client; memory when absent. Its owner connects it and closes it (dispose leaves it open). */
  redis?: Redis
  /** Key prefix in Redis (`<base>:<key>`), so several deployments can share one server. Default 'gemgate'. */
  base?: string
}

export function createStateStorage(options: StateStorageOptions = {}): Storage {
  if (!options.redis) return createStorage({ driver: memoryDriver() })
  return createStorage({ driver: redisClientDriver({ client: options.redis, base: options.base ?? 'gemgate' }) })
}

const redisClientDriver = defineDriver(({ client, base }: { client: Redis; base: string }) => {
  const full = (key: string) => joinKeys(base, key)
  const short = (key: string) => key.slice(base.length + 1)
  const pattern = (prefix = '') => `${escapeGlob(joinKeys(base, prefix))}:*`
  const scan = async (match: string): Promise<string[]> => {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000)
      cursor = next
      found.push(...keys)
    } while (cursor !== '0')
    return found
  }
  return {
    name: 'redis-client',
    getInstance: () => client,
    hasItem: async (key) => (await client.exists(full(key))) === 1,
    getItem: (key) => client.get(full(key)),
    async getItems(items) {
      if (items.length === 0) return []
      const values = await client.mget(items.map((item) => full(item.key)))
      return items.map((item, index) => ({ key: item.key, value: values[index] ?? null }))
    },
    async setItem(key, value) {
      await client.set(full(key), value)
    },
    async removeItem(key) {
      await client.unlink(full(key))
    },
    getKeys: async (prefix) => (await scan(pattern(prefix))).map(short),
    async clear(prefix) {
      const keys = await scan(pattern(prefix))
      if (keys.length > 0) await client.unlink(keys)
    },
  }
})

const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, String.raw`\$&`)
