import type { Storage } from 'unstorage'
import type { Bus } from '../shared/index.ts'
import type { KeyHealth, KeyPool, PoolKey } from './pool.ts'

/**
 * Key health shared by every instance: a change one instance makes (a key disabled, cooled down, enabled, reset)
 * is written to the shared key-value state and announced on the bus, and the other instances apply it to their pools
 * at once, without an event and without writing it back. Every instance also re-reads the stored health now and then,
 * and right after a Redis outage, for the messages it missed. Writes are coalesced per key and leave the request path.
 * A failing store never throws: the pools keep their state in memory, a write that failed is tried again with the next
 * one (or a flush), and an outage is reported once when it starts and once when it ends.
 */
export interface KeyHealthStore {
  /** The pools' onChange callback. */
  save(key: PoolKey, health: KeyHealth): void
  /**
   * Gives a new pool the health known for its keys (what is stored, by any instance or an earlier run, and what this
   * instance saw), and from then on what other instances change, for as long as the pool lives.
   */
  load(pool: KeyPool): Promise<number>
  /** Writes what is still waiting. */
  flush(): Promise<void>
  /** Re-reads the health of the live pools' keys; returns how many keys changed. */
  refresh(): Promise<number>
  stop(): void
}

export interface KeyHealthStoreOptions {
  storage: Storage
  /** Carries each change to the other instances at once; without, they learn of it at their next re-read. */
  bus?: Bus
  /** How often everything is re-read (default 15 s; 0: never). */
  refreshMs?: number
  /** The first failure of an outage. */
  onError(error: unknown): void
  /** The first success after an outage. */
  onRecover?(): void
}

/**
 * One key's health as storage and the bus carry it, with when each part last changed, so that older news never undoes
 * newer: instances act on one key at the same moment, and their messages cross.
 */
interface SharedHealth {
  strikes: number
  lastFailure?: KeyHealth['lastFailure']
  disabled?: KeyHealth['disabled']
  /** By model, each with when it was set or extended. */
  cooldowns: Record<string, { until: number; reason: string; at: number }>
  /** When strikes or lastFailure last changed. */
  at: number
  /** When it was last disabled, enabled, or disabled for another reason. */
  switchedAt: number
  /** When an operator last reset it: cooldowns set before then are void. */
  resetAt: number
}

const PREFIX = 'keys:health:'
/** A key nothing has happened to. */
const NOTHING: SharedHealth = { strikes: 0, cooldowns: {}, at: 0, switchedAt: 0, resetAt: 0 }
const CHANNEL = 'key-health'

export function createKeyHealthStore(options: KeyHealthStoreOptions): KeyHealthStore {
  const { storage, bus } = options
  /** What this instance knows of each key, by id: its own changes merged with every other instance's. */
  const known = new Map<string, SharedHealth>()
  /** What each pool's key looked like at its last change or adoption, to tell what a change changed. */
  const lastSeen = new WeakMap<PoolKey, SharedHealth>()
  /**
   * The pools loaded, held weakly: the current generation's, and a replaced one's while it finishes its requests. A
   * message that arrives while a new generation is being built reaches its pools too.
   */
  const loaded = new Set<WeakRef<KeyPool>>()
  const pools = (): KeyPool[] => {
    const live: KeyPool[] = []
    for (const ref of loaded) {
      const pool = ref.deref()
      if (pool) live.push(pool)
      else loaded.delete(ref)
    }
    return live
  }
  const dirty = new Map<string, SharedHealth>()
  let scheduled: Promise<void> | undefined
  let failing = false

  const failed = (error: unknown) => {
    if (!failing) options.onError(error)
    failing = true
  }
  const worked = () => {
    if (failing) options.onRecover?.()
    failing = false
  }

  const adopt = (pool: KeyPool, key: PoolKey, record: SharedHealth) => {
    pool.adopt(key, healthOf(record, Date.now()))
    lastSeen.set(key, record)
  }
  /** Merges news about one key into what is known; applies it to the current pools when it changes anything. */
  const learn = (id: string, theirs: SharedHealth): boolean => {
    const mine = known.get(id)
    const merged = merge(mine, theirs, Date.now())
    if (mine && JSON.stringify(merged) === JSON.stringify(mine)) return false
    known.set(id, merged)
    for (const pool of pools()) {
      const key = pool.get(id)
      if (key) adopt(pool, key, merged)
    }
    return true
  }
  const read = async (ids: readonly string[]): Promise<Map<string, SharedHealth>> => {
    const found = new Map<string, SharedHealth>()
    if (ids.length === 0) return found
    try {
      const items = await storage.getItems(ids.map((id) => PREFIX + id))
      worked()
      for (const { key, value } of items) {
        const record = parseRecord(value)
        if (record) found.set(key.slice(key.lastIndexOf(':') + 1), record)
      }
    } catch (error) {
      failed(error)
    }
    return found
  }

  const flush = async (): Promise<void> => {
    const batch = [...dirty]
    dirty.clear()
    if (batch.length === 0) return
    await Promise.all(
      batch.map(([id, record]) =>
        storage.setItem(PREFIX + id, record).then(worked, (error) => {
          // Kept for the next write, unless a newer state of that key is already waiting.
          if (!dirty.has(id)) dirty.set(id, record)
          failed(error)
        }),
      ),
    )
    // Announced once written: an instance that misses the message (its subscription was down) reads it when it catches up.
    bus?.publish(CHANNEL, { items: batch })
  }

  const refresh = async (): Promise<number> => {
    const ids = [...new Set(pools().flatMap((pool) => pool.keys.map((key) => key.id)))]
    let changed = 0
    for (const [id, record] of await read(ids)) if (learn(id, record)) changed++
    return changed
  }

  const unsubscribe = bus?.subscribe(CHANNEL, (message) => {
    const items = (message as { items?: unknown } | null)?.items
    if (!Array.isArray(items)) return
    for (const item of items) {
      const record = Array.isArray(item) && typeof item[0] === 'string' ? parseRecord(item[1]) : undefined
      if (record) learn(item[0], record)
    }
  })
  const timer = (options.refreshMs ?? 15_000) > 0 ? setInterval(() => void refresh(), options.refreshMs ?? 15_000).unref() : undefined

  return {
    save(key, health) {
      const now = Date.now()
      const mine = snapshot(health, lastSeen.get(key), now)
      lastSeen.set(key, mine)
      const merged = merge(known.get(key.id), mine, now)
      known.set(key.id, merged)
      dirty.set(key.id, merged)
      scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => (scheduled = undefined))
    },
    async load(pool) {
      loaded.add(new WeakRef(pool))
      for (const [id, record] of await read(pool.keys.map((key) => key.id))) learn(id, record)
      let restored = 0
      for (const key of pool.keys) {
        const record = known.get(key.id)
        if (!record) continue
        adopt(pool, key, record)
        restored++
      }
      return restored
    },
    async flush() {
      await scheduled
      await flush()
    },
    refresh,
    stop() {
      clearInterval(timer)
      unsubscribe?.()
    },
  }
}

/** The record of a pool's key after a change, stamped against what the same pool's key looked like before it. */
function snapshot(health: KeyHealth, before: SharedHealth = NOTHING, now: number): SharedHealth {
  const cooldowns: SharedHealth['cooldowns'] = table()
  for (const [model, { until, reason }] of Object.entries(health.cooldowns)) {
    if (until <= now) continue
    const was = Object.hasOwn(before.cooldowns, model) ? before.cooldowns[model] : undefined
    cooldowns[model] = { until, reason, at: was?.until === until ? was.at : now }
  }
  // Only an operator's reset takes a cooldown away before it runs out.
  const reset = Object.entries(before.cooldowns).some(([model, { until }]) => until > now && !Object.hasOwn(health.cooldowns, model))
  const sameStrikes = before.strikes === health.strikes && before.lastFailure?.at === health.lastFailure?.at
  return {
    strikes: health.strikes,
    ...(health.lastFailure ? { lastFailure: { ...health.lastFailure } } : {}),
    ...(health.disabled ? { disabled: { ...health.disabled } } : {}),
    cooldowns,
    // A part this change left as it was keeps its time: it is no news, and must not beat another instance's.
    at: sameStrikes ? before.at : now,
    switchedAt: sameDisabled(before.disabled, health.disabled) ? before.switchedAt : now,
    resetAt: reset ? now : before.resetAt,
  }
}

/**
 * Each part from whoever changed it last: strikes and last failure by `at`; disablement by `switchedAt`, except that an
 * operator's disablement beats an automatic one (as in the pool); cooldowns by model, the longer one, dropping those
 * set before the latest reset and those run out.
 */
function merge(mine: SharedHealth | undefined, theirs: SharedHealth, now: number): SharedHealth {
  // Knowing nothing of a key, any news is newer.
  const base = mine ?? { ...NOTHING, at: -1, switchedAt: -1 }
  const resetAt = Math.max(base.resetAt, theirs.resetAt)
  const cooldowns: SharedHealth['cooldowns'] = table()
  for (const side of [base, theirs]) {
    for (const [model, cooldown] of Object.entries(side.cooldowns)) {
      if (cooldown.until <= now || cooldown.at < resetAt) continue
      const other = cooldowns[model]
      if (!other || cooldown.until > other.until) cooldowns[model] = cooldown
    }
  }
  const counted = theirs.at > base.at ? theirs : base
  const operatorOnly = base.disabled && theirs.disabled && base.disabled.byOperator !== theirs.disabled.byOperator
  const switched = operatorOnly ? (base.disabled!.byOperator ? base : theirs) : theirs.switchedAt > base.switchedAt ? theirs : base
  return {
    strikes: counted.strikes,
    ...(counted.lastFailure ? { lastFailure: counted.lastFailure } : {}),
    ...(switched.disabled ? { disabled: switched.disabled } : {}),
    cooldowns,
    at: Math.max(base.at, theirs.at),
    switchedAt: Math.max(base.switchedAt, theirs.switchedAt),
    resetAt,
  }
}

function healthOf(record: SharedHealth, now: number): KeyHealth {
  const cooldowns: KeyHealth['cooldowns'] = table()
  for (const [model, { until, reason }] of Object.entries(record.cooldowns)) if (until > now) cooldowns[model] = { until, reason }
  return {
    strikes: record.strikes,
    cooldowns,
    ...(record.disabled ? { disabled: { ...record.disabled } } : {}),
    ...(record.lastFailure ? { lastFailure: { ...record.lastFailure } } : {}),
  }
}

const sameDisabled = (a: KeyHealth['disabled'], b: KeyHealth['disabled']) =>
  a === b || (a !== undefined && b !== undefined && a.at === b.at && a.reason === b.reason && a.byOperator === b.byOperator)

/** A map by model name that no name (`__proto__`) can reach past. */
const table = <T>(): Record<string, T> => Object.create(null)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const stamp = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0)
const isFailure = (value: unknown): value is { at: number; reason: string; byOperator?: unknown } =>
  isObject(value) && typeof value.at === 'number' && typeof value.reason === 'string'

/**
 * A stored or announced record, checked field by field (Redis may hold anything); one written before the parts had
 * times (an earlier version) reads as the oldest news.
 */
function parseRecord(value: unknown): SharedHealth | undefined {
  if (!isObject(value) || typeof value.strikes !== 'number' || !isObject(value.cooldowns)) return undefined
  const cooldowns: SharedHealth['cooldowns'] = table()
  for (const [model, cooldown] of Object.entries(value.cooldowns)) {
    if (isObject(cooldown) && typeof cooldown.until === 'number' && typeof cooldown.reason === 'string') {
      cooldowns[model] = { until: cooldown.until, reason: cooldown.reason, at: stamp(cooldown.at) }
    }
  }
  const disabled = value.disabled
  return {
    strikes: value.strikes,
    ...(isFailure(value.lastFailure) ? { lastFailure: { at: value.lastFailure.at, reason: value.lastFailure.reason } } : {}),
    ...(isFailure(disabled) ? { disabled: { at: disabled.at, reason: disabled.reason, ...(disabled.byOperator === true ? { byOperator: true } : {}) } } : {}),
    cooldowns,
    at: stamp(value.at),
    switchedAt: stamp(value.switchedAt),
    resetAt: stamp(value.resetAt),
  }
}
