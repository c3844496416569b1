import { MinHeap } from '../../internal/heap.ts'
import type { PoolKey, Selector, Strategy } from '../strategies.ts'

/** The keys that may serve one model while some are out for it, and when those come back. */
interface ModelEntry {
  selector: Selector
  /** Cooldown ends and cap releases; an entry made stale by a longer cooldown or hold is skipped. */
  expiries: MinHeap<{ at: number; keyId: string }>
  /** Key id → until when a cap keeps it from this model. */
  holds: Map<string, number>
}

export interface ModelSetsDeps {
  keys: readonly PoolKey[]
  byId: ReadonlyMap<string, PoolKey>
  strategy: Strategy
  now: () => number
  /** Whether the key is enabled and not cooling down for the model (its health; caps are kept here). */
  mayServe(key: PoolKey, model: string, now: number): boolean
  /** The key's time out for `model` ended: the pool clears a cooldown that ran out and tells; true when there was one. */
  cooldownEnded(key: PoolKey, model: string, now: number): boolean
}

/**
 * Which keys may serve which model: one selector of the enabled keys, and one per model that has keys out for it
 * (cooling down, or at a cap), made when the first key goes out and dropped when the last comes back. Caps are held
 * here, not in key health: they are counts, not the key's fault, and are neither stored nor shown as cooldowns.
 */
export class ModelSets {
  readonly enabled: Selector
  readonly #perModel = new Map<string, ModelEntry>()
  /** The same entries, for loops on every pick (an index over an array allocates nothing; a Map's iterator does). */
  readonly #entries: ModelEntry[] = []
  /** Model → until when a cap of the whole pool keeps every key from it, and why. */
  readonly #poolHolds = new Map<string, { until: number; reason: string }>()

  constructor(private readonly deps: ModelSetsDeps) {
    this.enabled = deps.strategy.create(deps.keys)
  }

  /** The selector to pick from for `model` (letting back first the keys whose time out has ended). */
  selector(model: string): Selector {
    const entry = this.#perModel.get(model)
    if (!entry) return this.enabled
    this.#release(model, entry, this.deps.now())
    return this.#perModel.get(model)?.selector ?? this.enabled
  }

  /** Keeps `key` from `model` until `until` (its health says why: a cooldown). */
  keepOut(key: PoolKey, model: string, until: number, now: number): void {
    const entry = this.#entry(model, key, now)
    entry.selector.remove(key)
    entry.expiries.push({ at: until, keyId: key.id })
  }

  /** Keeps `key` from `model` until a cap's window ends. */
  hold(key: PoolKey, model: string, until: number, now: number): void {
    const entry = this.#entry(model, key, now)
    if ((entry.holds.get(key.id) ?? 0) >= until) return
    entry.holds.set(key.id, until)
    this.keepOut(key, model, until, now)
  }

  /** Until when a cap keeps `key` from `model` (0: none). */
  heldUntil(key: PoolKey, model: string): number {
    return this.#perModel.get(model)?.holds.get(key.id) ?? 0
  }

  holdPool(model: string, until: number, reason: string): void {
    const current = this.#poolHolds.get(model)
    if (!current || current.until < until) this.#poolHolds.set(model, { until, reason })
  }

  /** The cap of the whole pool that keeps every key from `model` now, if one does. */
  poolHold(model: string): { until: number; reason: string } | undefined {
    if (this.#poolHolds.size === 0) return undefined
    const hold = this.#poolHolds.get(model)
    if (!hold || hold.until > this.deps.now()) return hold
    this.#poolHolds.delete(model)
    return undefined
  }

  /** Puts `key` back for every model it may serve now (enabled again, reset, a cooldown taken away). */
  letBack(key: PoolKey, now: number): void {
    for (const [model, entry] of this.#perModel) {
      if ((entry.holds.get(key.id) ?? 0) <= now && this.deps.mayServe(key, model, now)) entry.selector.add(key)
    }
  }

  /** Takes `key` out of every selector (disabled). */
  remove(key: PoolKey): void {
    this.enabled.remove(key)
    for (const entry of this.#perModel.values()) entry.selector.remove(key)
  }

  /** Re-places a key whose standing changed in every selector that holds it. */
  update(key: PoolKey): void {
    this.enabled.update(key)
    for (let i = 0; i < this.#entries.length; i++) this.#entries[i]!.selector.update(key)
  }

  /** Lets back every key whose time out has ended, for every model (those nobody asks for any more too). */
  sweep(now: number): void {
    for (const [model, entry] of this.#perModel) this.#release(model, entry, now)
    for (const [model, hold] of this.#poolHolds) if (hold.until <= now) this.#poolHolds.delete(model)
  }

  /** The model's entry, made (from the enabled keys that may serve it, less `leaving`) when it has none. */
  #entry(model: string, leaving: PoolKey, now: number): ModelEntry {
    let entry = this.#perModel.get(model)
    if (entry) return entry
    const { keys, strategy, mayServe } = this.deps
    const eligible = keys.filter((k) => k.id !== leaving.id && this.enabled.has(k) && mayServe(k, model, now))
    entry = { selector: strategy.create(eligible), expiries: new MinHeap(), holds: new Map() }
    this.#perModel.set(model, entry)
    this.#entries.push(entry)
    return entry
  }

  #release(model: string, entry: ModelEntry, now: number): void {
    const { byId, strategy, mayServe, cooldownEnded } = this.deps
    for (let top = entry.expiries.peek(); top && top.at <= now; top = entry.expiries.peek()) {
      entry.expiries.pop()
      const key = byId.get(top.keyId)!
      const hold = entry.holds.get(key.id)
      // A stale heap entry (the hold or cooldown was extended since) is skipped; the newer entry releases the key.
      if (hold !== undefined && hold > now) continue
      if (hold !== undefined) entry.holds.delete(key.id)
      const recovered = cooldownEnded(key, model, now)
      if (entry.selector.has(key) || !mayServe(key, model, now)) continue
      entry.selector.add(key)
      if (recovered && strategy.refreshed(key)) this.update(key)
    }
    if (entry.expiries.size > 0) return
    this.#perModel.delete(model)
    this.#entries.splice(this.#entries.indexOf(entry), 1)
  }
}
