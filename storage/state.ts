// Key-value state that several gateway instances can share (key health, cooldowns): in process memory by
// default, Redis when a URL is given. unstorage has no atomic increment; for counters shared through Redis use
// the raw client: `storage.getMount('').driver.getInstance()` gives the ioredis instance (INCR/EXPIRE).
import { createStorage, type Storage } from 'unstorage'
import memoryDriver from 'unstorage/drivers/memory'
import redisDriver from 'unstorage/drivers/redis'

export interface StateStorageOptions {
  /** redis://[:password@]host:port[/db]; memory when absent. */
  redisUrl?: string
  /** Key prefix in Redis (`<base>:<key>`), so several deployments can share one server. Default 'gemgate'. */
  base?: string
}

export function createStateStorage(options: StateStorageOptions = {}): Storage {
  if (!options.redisUrl) return createStorage({ driver: memoryDriver() })
  return createStorage({
    driver: redisDriver({
      url: options.redisUrl,
      base: options.base ?? 'gemgate',
      // Fail a command after a few reconnect attempts instead of holding it for ~20 (ioredis' default).
      maxRetriesPerRequest: 3,
      connectTimeout: 5000,
    }),
  })
}
