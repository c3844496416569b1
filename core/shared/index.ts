// What gateway instances behind one load balancer share so that they act as one gateway: exact counters, messages,
// leases and key-value state. In Redis when REDIS_URL is set (ioredis is loaded only then); in this process's memory
// otherwise. A Redis outage never fails a caller: each part falls back to local behaviour until Redis is back, and
// the log says so once each way.
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { ConsolaInstance } from 'consola'
import type { Storage } from 'unstorage'
import { createLocalState } from './local.ts'

export { watchSettings, type SettingsWatch, type SettingsWatchOptions } from './settings.ts'

/**
 * Fixed windows `ms` long, one of them starting at `anchor` (epoch ms, default 0). For daily quotas pass the last
 * midnight Pacific as the anchor on each call (days there are 23 or 25 hours long around DST changes).
 */
export interface CounterWindow {
  ms: number
  anchor?: number
}

/** Atomic counters in fixed windows: exact across instances with Redis (INCRBY and PEXPIRE in one Lua call), in memory without. */
export interface Counters {
  /** Adds `by` to the counter `name` in the window that holds now, and returns its new total. */
  add(name: string, by: number, window: CounterWindow): Promise<number>
  /** The current total, without adding. */
  get(name: string, window: CounterWindow): Promise<number>
}

/**
 * Messages between instances (Redis pub/sub). A message reaches the subscribers of every *other* instance, never the
 * publisher's own (it acted already); so without Redis, or while it is down, publishing reaches no one. Messages are
 * not kept: whoever relies on one also needs a way to catch up (a re-read, a version to poll).
 */
export interface Bus {
  /** `message` must survive JSON. */
  publish(channel: string, message: unknown): void
  /** Returns the function that unsubscribes. */
  subscribe(channel: string, handler: (message: unknown) => void): () => void
}

/** A lease makes something happen on one instance at a time (SET NX PX). */
export interface Leases {
  /**
   * The release function, or undefined when another instance holds the lease. With `keep` it is renewed while this
   * process lives, until released (a job's run: `ttlMs` only bounds how long an instance that died holding it blocks
   * the others); without, it lapses after `ttlMs` unless released sooner (a claim).
   */
  acquire(name: string, ttlMs: number, options?: { keep?: boolean }): Promise<(() => Promise<void>) | undefined>
}

/** local: no Redis configured; shared: Redis carries state between instances; degraded: Redis is unreachable, state is local meanwhile. */
export type SharedStatus = 'local' | 'shared' | 'degraded'

export interface SharedState {
  counters: Counters
  bus: Bus
  leases: Leases
  /** Key-value state (key health, console and upload sessions): unstorage on the same Redis connection, or memory. */
  storage: Storage
  /** This instance: host, process and a random part (the host is the pod's name on Kubernetes). */
  instanceId: string
  status(): SharedStatus
  /** Called each time Redis is reachable again after an outage: what was kept locally meanwhile can be written back. */
  onRecover(listener: () => void): () => void
  close(): Promise<void>
}

export interface SharedStateOptions {
  /** redis:// or rediss://; memory when absent. */
  redisUrl?: string
  /** Before every Redis key and channel (`<prefix>:...`), so deployments can share one Redis. Default 'gemgate'. */
  prefix?: string
  logger: ConsolaInstance
}

export async function createSharedState(options: SharedStateOptions): Promise<SharedState> {
  const instanceId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  if (!options.redisUrl) return createLocalState(instanceId)
  const { createRedisState } = await import('./redis.ts')
  return createRedisState({ url: options.redisUrl, prefix: options.prefix ?? 'gemgate', logger: options.logger, instanceId })
}
