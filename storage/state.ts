// Key-value state that several gateway instances can share (key health, cooldowns): in process memory by
// default, Redis when a URL is given. unstorage has no atomic increment; for counters shared through Redis use
// the raw client: `storage.getMount('').driver.getInstance()` gives the ioredis instance (INCR/EXPIRE).
import type Redis from 'ioredis'
import { createStorage, type Storage } from 'unstorage'
import memoryDriver from 'unstorage/drivers/memory'
import redisDriver from 'unstorage/drivers/redis'

export interface StateStorageOptions {
  /** redis://[:password@]host:port[/db]; memory when absent. */
  redisUrl?: string
  /** Key prefix in Redis (`<base>:<key>`), so several deployments can share one server. Default 'gemgate'. */
  base?: string
  /** Told once when Redis becomes unreachable and once when it is back; default: silent. */
  logger?: { warn(...args: unknown[]): void; info(...args: unknown[]): void }
  /** Called when Redis is back after an outage, e.g. to write again what was kept in memory meanwhile. */
  onReconnect?: () => void
}

export function createStateStorage(options: StateStorageOptions = {}): Storage {
  if (!options.redisUrl) return createStorage({ driver: memoryDriver() })
  const storage = createStorage({
    driver: redisDriver({
      url: options.redisUrl,
      base: options.base ?? 'gemgate',
      // Fail a command after a few reconnect attempts instead of holding it for ~20 (ioredis' default).
      maxRetriesPerRequest: 3,
      connectTimeout: 5000,
    }),
  })
  watchConnection(storage.getMount('').driver.getInstance!() as Redis, options)
  return storage
}

/**
 * ioredis emits 'error' on every failed reconnect attempt; without a listener each one is an "Unhandled error
 * event" on stderr. One line when the outage starts, one when it ends.
 */
function watchConnection(client: Redis, { logger, onReconnect }: StateStorageOptions): void {
  let down = false
  client.on('error', (error: Error) => {
    if (down) return
    down = true
    logger?.warn(`Redis unreachable (${error.message}), key state kept in memory until it is back`)
  })
  client.on('ready', () => {
    if (!down) return
    down = false
    logger?.info('Redis reachable again; key state is shared again')
    onReconnect?.()
  })
}
