// Shared state in Redis (loaded only when REDIS_URL is set). Two connections: one for commands, one subscribed to
// messages (a subscribed connection takes no other command). Commands never wait for a connection: while Redis is
// unreachable each call is answered locally at once (local.ts), and what must reach Redis later (counts made
// meanwhile) is written when it is back.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ConsolaInstance } from 'consola'
import Redis, { type RedisOptions } from 'ioredis'
import { createStateStorage } from '../../storage/index.ts'
import type { Bus, CounterWindow, Counters, Leases, SharedState } from './index.ts'
import { watchLink, type Link } from './internal/link.ts'
import { LocalCounters, LocalLeases, windowStart } from './local.ts'

/** How long a start waits for Redis before it goes on without (degraded, said once). */
const START_WAIT_MS = 3000
/** A command that takes longer fails, and the caller goes local: a stalled Redis must not stall requests. */
const COMMAND_TIMEOUT_MS = 1000
/** A counter outlives its window by this much (clocks of instances and Redis differ a little). */
const COUNTER_GRACE_MS = 60_000

/** INCRBY and PEXPIRE in one step: no instance can see the count without its expiry. */
const COUNT = `local total = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return total`
/** Only the holder's token may renew or end a lease. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

interface Scripts {
  gemgateCount(key: string, by: number, expireMs: number): Promise<number>
  gemgateRenew(key: string, token: string, ttlMs: number): Promise<number>
  gemgateRelease(key: string, token: string): Promise<number>
}
type Client = Redis & Scripts

export async function createRedisState(options: { url: string; prefix: string; logger: ConsolaInstance; instanceId: string }): Promise<SharedState> {
  const { url, prefix, logger, instanceId } = options
  const retryStrategy = (attempt: number) => Math.min(attempt * 100, 1000)
  const settings: RedisOptions = {
    connectTimeout: START_WAIT_MS,
    retryStrategy,
    // Fail at once while disconnected, and fail what a dropped connection was carrying: the caller answers locally.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
  }
  const commands = new Redis(url, settings) as Client
  commands.defineCommand('gemgateCount', { numberOfKeys: 1, lua: COUNT })
  commands.defineCommand('gemgateRenew', { numberOfKeys: 1, lua: RENEW })
  commands.defineCommand('gemgateRelease', { numberOfKeys: 1, lua: RELEASE })
  // Subscriptions wait for the connection and are made again after each reconnect.
  const messages = new Redis(url, { connectTimeout: START_WAIT_MS, retryStrategy, maxRetriesPerRequest: null })
  const link = watchLink(commands, messages, logger)

  // A start waits for Redis a little, but not for a Redis that refused: it goes on degraded, and joins when Redis answers.
  const ready = (client: Redis) => new Promise<void>((resolve) => client.once('ready', () => resolve()))
  const refused = new Promise<'refused'>((resolve) => commands.once('error', () => resolve('refused')))
  const start = await Promise.race([
    Promise.all([ready(commands), ready(messages)]).then(() => 'ready' as const),
    refused, // already said by the link
    sleep(START_WAIT_MS, 'silent' as const, { ref: false }),
  ])
  if (start === 'silent') link.failed(new Error(`no answer within ${START_WAIT_MS / 1000} s`))

  const counters = createRedisCounters(commands, link, `${prefix}:count:`)
  link.onRecover(() => void counters.writeOwed())
  const storage = createStateStorage({ redis: commands, base: prefix })
  return {
    counters,
    bus: createRedisBus({ commands, messages, link, logger, instanceId, channelPrefix: `${prefix}:bus:` }),
    leases: createRedisLeases(commands, link, `${prefix}:lease:`, instanceId),
    storage,
    instanceId,
    status: link.status,
    onRecover: link.onRecover,
    async close() {
      link.stop()
      await storage.dispose()
      commands.disconnect()
      messages.disconnect()
    },
  }
}

/** Counters in Redis, mirrored in memory: an outage counts on locally from the last totals Redis gave. */
function createRedisCounters(client: Client, link: Link, prefix: string): Counters & { writeOwed(): Promise<void> } {
  const local = new LocalCounters()
  /** Counts made while Redis was unreachable, by Redis key: added to Redis once it is back. */
  const owed = new Map<string, { by: number; endsAt: number }>()
  const keyOf = (name: string, window: CounterWindow, start: number) => `${prefix}${name}:${window.ms}:${start}`

  return {
    async add(name, by, window) {
      const now = Date.now()
      const start = windowStart(window, now)
      const key = keyOf(name, window, start)
      if (link.usable()) {
        try {
          const total = await client.gemgateCount(key, by, start + window.ms - now + COUNTER_GRACE_MS)
          link.worked()
          local.mirror(name, window, start, total)
          return total
        } catch (error) {
          link.failed(error)
        }
      }
      owed.set(key, { by: (owed.get(key)?.by ?? 0) + by, endsAt: start + window.ms })
      return local.bump(name, by, window, now)
    },
    async get(name, window) {
      const now = Date.now()
      const start = windowStart(window, now)
      if (link.usable()) {
        try {
          const total = Number(await client.get(keyOf(name, window, start))) || 0
          link.worked()
          local.mirror(name, window, start, total)
          return total
        } catch (error) {
          link.failed(error)
        }
      }
      return local.get(name, window)
    },
    async writeOwed() {
      const now = Date.now()
      for (const [key, debt] of owed) {
        owed.delete(key)
        if (debt.endsAt <= now) continue
        await client.gemgateCount(key, debt.by, debt.endsAt - now + COUNTER_GRACE_MS).catch((error) => {
          owed.set(key, debt)
          link.failed(error)
        })
      }
    },
  }
}

/** Leases in Redis; while it is unreachable, granted by this process alone. */
function createRedisLeases(client: Client, link: Link, prefix: string, instanceId: string): Leases {
  const local = new LocalLeases()
  return {
    async acquire(name, ttlMs, options = {}) {
      if (!link.usable()) return local.take(name, ttlMs, options)
      const key = prefix + name
      const token = `${instanceId}:${randomBytes(6).toString('hex')}`
      try {
        const taken = await client.set(key, token, 'PX', ttlMs, 'NX')
        link.worked()
        if (taken !== 'OK') return undefined
      } catch (error) {
        link.failed(error)
        return local.take(name, ttlMs, options)
      }
      const renewing = options.keep
        ? setInterval(() => {
            if (link.usable()) client.gemgateRenew(key, token, ttlMs).catch(link.failed)
          }, ttlMs / 3).unref()
        : undefined
      let released = false
      return async () => {
        if (released) return
        released = true
        clearInterval(renewing)
        // Unreachable: the lease lapses on its own after ttlMs.
        if (link.usable()) await client.gemgateRelease(key, token).catch(link.failed)
      }
    },
  }
}

function createRedisBus(deps: { commands: Client; messages: Redis; link: Link; logger: ConsolaInstance; instanceId: string; channelPrefix: string }): Bus {
  const { commands, messages, link, logger, instanceId, channelPrefix } = deps
  const handlers = new Map<string, Set<(message: unknown) => void>>()
  messages.on('message', (channel: string, text: string) => {
    const subscribed = handlers.get(channel.slice(channelPrefix.length))
    if (!subscribed) return
    let envelope: { from?: unknown; message?: unknown }
    try {
      envelope = JSON.parse(text)
    } catch {
      return logger.warn(`a message on ${channel} is not JSON; ignored`)
    }
    if (envelope.from === instanceId) return
    for (const handler of subscribed) {
      try {
        handler(envelope.message)
      } catch (error) {
        logger.warn(`handling a message on ${channel} failed:`, error)
      }
    }
  })
  return {
    publish(channel, message) {
      if (!link.usable()) return
      commands.publish(channelPrefix + channel, JSON.stringify({ from: instanceId, message })).then(link.worked, link.failed)
    },
    subscribe(channel, handler) {
      let subscribed = handlers.get(channel)
      if (!subscribed) {
        handlers.set(channel, (subscribed = new Set()))
        messages.subscribe(channelPrefix + channel).catch((error) => logger.warn(`subscribing to ${channel} failed:`, error))
      }
      subscribed.add(handler)
      return () => {
        subscribed.delete(handler)
        if (subscribed.size > 0 || handlers.get(channel) !== subscribed) return
        handlers.delete(channel)
        messages.unsubscribe(channelPrefix + channel).catch(() => {})
      }
    },
  }
}
