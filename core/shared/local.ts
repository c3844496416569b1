// Shared state without Redis: this process's memory. Redis mode keeps the same counters and leases as its fallback
// while Redis is unreachable, so an outage degrades to exactly this.
import { createStateStorage } from '../../storage/index.ts'
import type { Bus, CounterWindow, Counters, Leases, SharedState } from './index.ts'

/** The start (epoch ms) of the window of `window` that holds `now`. */
export function windowStart({ ms, anchor = 0 }: CounterWindow, now: number): number {
  if (!(ms > 0) || !Number.isSafeInteger(ms) || !Number.isSafeInteger(anchor)) throw new RangeError(`a counter window of ${ms} ms from ${anchor} is not one`)
  return anchor + Math.floor((now - anchor) / ms) * ms
}

/** Counters in memory: one total per name and window, for the window holding now only. */
export class LocalCounters implements Counters {
  readonly #totals = new Map<string, { start: number; total: number }>()

  async add(name: string, by: number, window: CounterWindow): Promise<number> {
    return this.bump(name, by, window, Date.now())
  }

  async get(name: string, window: CounterWindow): Promise<number> {
    const entry = this.#totals.get(slot(name, window))
    return entry?.start === windowStart(window, Date.now()) ? entry.total : 0
  }

  bump(name: string, by: number, window: CounterWindow, now: number): number {
    if (!Number.isSafeInteger(by)) throw new RangeError(`a counter grows by whole numbers, not ${by}`)
    const start = windowStart(window, now)
    const id = slot(name, window)
    const entry = this.#totals.get(id)
    const total = (entry?.start === start ? entry.total : 0) + by
    this.#totals.set(id, { start, total })
    return total
  }

  /** Remembers a total Redis answered, so that an outage counts on from it rather than from zero. */
  mirror(name: string, window: CounterWindow, start: number, total: number): void {
    this.#totals.set(slot(name, window), { start, total })
  }
}

const slot = (name: string, { ms, anchor = 0 }: CounterWindow) => `${name}\n${ms}\n${anchor}`

/** Past this many entries, expired ones are dropped (claims that are never released would otherwise pile up). */
const PRUNE_ABOVE = 256

/** Leases in memory: exclusive within this process. */
export class LocalLeases implements Leases {
  readonly #held = new Map<string, { until: number }>()

  async acquire(name: string, ttlMs: number, options: { keep?: boolean } = {}): Promise<(() => Promise<void>) | undefined> {
    return this.take(name, ttlMs, options)
  }

  take(name: string, ttlMs: number, { keep = false }: { keep?: boolean } = {}): (() => Promise<void>) | undefined {
    const now = Date.now()
    if ((this.#held.get(name)?.until ?? 0) > now) return undefined
    if (this.#held.size > PRUNE_ABOVE) for (const [held, { until }] of this.#held) if (until <= now) this.#held.delete(held)
    // A kept lease lives as long as its holder, and its holder is this process.
    const entry = { until: keep ? Infinity : now + ttlMs }
    this.#held.set(name, entry)
    return async () => {
      if (this.#held.get(name) === entry) this.#held.delete(name)
    }
  }
}

/** No other instance to reach. */
const silentBus: Bus = {
  publish() {},
  subscribe: () => () => {},
}

export function createLocalState(instanceId: string): SharedState {
  const storage = createStateStorage()
  return {
    counters: new LocalCounters(),
    bus: silentBus,
    leases: new LocalLeases(),
    storage,
    instanceId,
    status: () => 'local',
    onRecover: () => () => {},
    close: () => storage.dispose(),
  }
}
