import { maskSecret, type IdOf } from '../identity.ts'
import { MinHeap } from '../internal/heap.ts'
import type { KeyEvent } from './events.ts'
import type { Verdict } from './judge.ts'
import { StormDetector, type StormPolicy, DEFAULT_STORM_POLICY } from './storm.ts'
import { createRotation, type PoolKey, type Rotation } from './strategies.ts'

export type { PoolKey }

/** What the pool knows about one key; serialisable so it can live in shared storage. */
export interface KeyHealth {
  /** Ambiguous failures since the last success; MAX_FAILURES of them disable the key. */
  strikes: number
  /** byOperator: an operator took it out; only an operator's enable or reset brings it back, never a re-check. */
  disabled?: { reason: string; at: number; byOperator?: boolean }
  /** Per model: the key may not serve it before `until` (epoch ms). */
  cooldowns: Record<string, { until: number; reason: string }>
  lastFailure?: { at: number; reason: string }
}

export interface KeyPoolOptions {
  maxFailures: number
  now?: () => number
  storm?: Partial<StormPolicy>
  /** Called after every change of a key's health (persistence, metrics). */
  onChange?: (key: PoolKey, health: KeyHealth) => void
  /**
   * Called when a key is disabled, starts cooling down for a model, or comes back (a cooldown ran out, an enable, a
   * reset): transitions only, not every verdict on a key already out. Not for health read back by `restore`.
   */
  onEvent?: (event: Omit<KeyEvent, 'id' | 'at' | 'pool'>) => void
  /** A key's id: the deployment's HMAC (core/identity.ts), the same on every instance. */
  idOf: IdOf
  /** The API root these keys belong to, when not BASE_URL (Vertex Express): their requests and re-checks go there. */
  baseUrl?: string
}

/** Own entries only: a model named `constructor` must not find Object's. */
const cooldownOf = (health: KeyHealth, model: string) => (Object.hasOwn(health.cooldowns, model) ? health.cooldowns[model] : undefined)

const SERVED_MEMORY_MS = 86_400_000
const SERVED_REFRESH_MS = 60_000
const SERVED_MAX_MODELS = 1024
const PASSED_MAX_ENTRIES = 4096

export interface Unavailable {
  status: 429 | 503
  retryAfterSeconds?: number
  message: string
}

/**
 * The key pool: which keys may serve which model right now. All decisions about *why* come from the judge's
 * verdicts; the pool only applies them. Picking is synchronous and O(1): one rotation of the enabled keys,
 * plus a rotation per model for models that currently have keys cooling down.
 */
export class KeyPool {
  readonly keys: readonly PoolKey[]
  readonly baseUrl: string | undefined
  readonly #byId = new Map<string, PoolKey>()
  readonly #health = new Map<string, KeyHealth>()
  readonly #enabled: Rotation
  readonly #perModel = new Map<string, { rotation: Rotation; expiries: MinHeap<{ at: number; keyId: string }> }>()
  readonly #storm: StormDetector
  /** Model → when a key last served it: a 404 on a model nobody served is a typo, not a key's lack of access. */
  readonly #served = new Map<string, number>()
  /** `${keyId}\n${model}` → until when a passed probe stands (see confirm.ts). */
  readonly #passed = new Map<string, number>()
  readonly #options: KeyPoolOptions & { now: () => number }

  constructor(secrets: readonly string[], options: KeyPoolOptions) {
    this.#options = { now: Date.now, ...options }
    this.baseUrl = options.baseUrl
    const keys: PoolKey[] = []
    for (const secret of secrets) {
      const id = options.idOf(secret)
      if (this.#byId.has(id)) continue
      const key = { id, label: maskSecret(secret), secret, index: keys.length }
      keys.push(key)
      this.#byId.set(id, key)
      this.#health.set(id, { strikes: 0, cooldowns: {} })
    }
    this.keys = keys
    this.#enabled = createRotation(keys)
    this.#storm = new StormDetector({ ...DEFAULT_STORM_POLICY, ...options.storm })
  }

  get(id: string): PoolKey | undefined {
    return this.#byId.get(id)
  }

  health(key: PoolKey): Readonly<KeyHealth> {
    return this.#health.get(key.id)!
  }

  /** The next key that may serve `model`, skipping the ones this request already tried. */
  pick(model: string, exclude?: ReadonlySet<string>): PoolKey | undefined {
    const now = this.#options.now()
    if (now < this.#storm.backoffUntil) return undefined
    const cooling = this.#perModel.get(model)
    if (!cooling) return this.#enabled.next(exclude)
    this.#releaseExpired(model, cooling, now)
    return (this.#perModel.get(model)?.rotation ?? this.#enabled).next(exclude)
  }

  /** Applies the judge's verdict on an attempt of `key` at `model` (the model it was for, '' when none). */
  apply(key: PoolKey, verdict: Verdict, model = ''): void {
    const health = this.#health.get(key.id)
    if (!health) return
    const now = this.#options.now()
    const effect = verdict.effect
    switch (effect.kind) {
      case 'none':
      case 'confirm': // settled by the caller with a fixed request; nothing happens to the key until then
        return
      case 'success':
        this.#storm.succeeded()
        if (model) this.#noteServed(model, now)
        if (health.strikes === 0 && !health.lastFailure) return
        health.strikes = 0
        health.lastFailure = undefined
        break
      case 'strike':
        health.strikes++
        health.lastFailure = { at: now, reason: effect.reason }
        if (health.strikes >= this.#options.maxFailures) {
          const reason = `${health.strikes} failures in a row; last: ${effect.reason}`
          if (this.#disable(key, health, { reason, at: now })) this.#emit(key, 'disabled', reason)
        }
        break
      case 'disable':
        health.lastFailure = { at: now, reason: effect.reason }
        if (this.#disable(key, health, { reason: effect.reason, at: now })) this.#emit(key, 'disabled', effect.reason)
        break
      case 'cooldown':
        health.lastFailure = { at: now, reason: verdict.reason }
        if (this.#coolDown(key, health, effect.model, effect.until, effect.reason) && !health.disabled)
          this.#emit(key, 'cooled', verdict.reason, effect.model, effect.until)
        if (effect.reason === 'rate-limited') {
          this.#storm.rateLimited({ at: now, keyId: key.id, retryAfterMs: effect.until - now }, this.#enabled.size)
        }
        break
    }
    this.#options.onChange?.(key, health)
  }

  /** Puts a disabled key back into rotation (a re-check succeeded, or an operator asked); `reason` is for the event. */
  enable(key: PoolKey, reason = 'enabled by an operator'): void {
    const health = this.#health.get(key.id)
    if (!health?.disabled) return
    this.#enable(key, health)
    this.#emit(key, 'enabled', reason)
    this.#options.onChange?.(key, health)
  }

  /** An operator takes a key out of rotation; it stays out until an operator enables or resets it (re-checks skip it). */
  disable(key: PoolKey, reason = 'disabled by an operator'): void {
    const health = this.#health.get(key.id)
    if (!health || health.disabled?.byOperator) return
    this.#disable(key, health, { reason, at: this.#options.now(), byOperator: true })
    this.#emit(key, 'disabled', reason)
    this.#options.onChange?.(key, health)
  }

  /** Forgets everything about a key: strikes, cooldowns, disablement (an operator's "reset"). */
  reset(key: PoolKey): void {
    const health = this.#health.get(key.id)
    if (!health) return
    if (health.disabled) this.#enable(key, health)
    health.strikes = 0
    health.cooldowns = {}
    health.lastFailure = undefined
    this.#forgetPasses(key)
    for (const entry of this.#perModel.values()) entry.rotation.add(key)
    this.#emit(key, 'reset', 'reset by an operator')
    this.#options.onChange?.(key, health)
  }

  /** Applies health read back from shared storage (at start, or from another instance). */
  restore(key: PoolKey, saved: KeyHealth): void {
    const health = this.#health.get(key.id)!
    health.strikes = saved.strikes
    health.lastFailure = saved.lastFailure
    if (saved.disabled && !health.disabled) this.#disable(key, health, saved.disabled)
    if (!saved.disabled && health.disabled) this.#enable(key, health)
    for (const [model, cooldown] of Object.entries(saved.cooldowns)) {
      if (cooldown.until > this.#options.now()) this.#coolDown(key, health, model, cooldown.until, cooldown.reason)
    }
  }

  /** Remembers that `key` answered the fixed request on `model` just now, so the next doubt is settled without one. */
  notePassed(key: PoolKey, model: string, forMs: number): void {
    if (this.#passed.size >= PASSED_MAX_ENTRIES) this.#forgetExpiredPasses(this.#options.now())
    if (this.#passed.size < PASSED_MAX_ENTRIES) this.#passed.set(`${key.id}\n${model}`, this.#options.now() + forMs)
  }

  passedRecently(key: PoolKey, model: string): boolean {
    return (this.#passed.get(`${key.id}\n${model}`) ?? 0) > this.#options.now()
  }

  /**
   * Why the key with this id may not serve `model` now (gone, disabled, cooling), or undefined when it may. For a
   * request pinned to one key: the answer names no other key, and carries Retry-After while the key cools down.
   */
  refusePinned(id: string, model: string): Unavailable | undefined {
    if (!this.#byId.has(id)) return { status: 503, message: 'is no longer configured' }
    const health = this.#health.get(id)!
    if (health.disabled) return { status: 503, message: `is disabled (${health.disabled.reason})` }
    const now = this.#options.now()
    const until = Math.max(this.#storm.backoffUntil, cooldownOf(health, model)?.until ?? 0)
    if (until <= now) return undefined
    const seconds = Math.max(1, Math.ceil((until - now) / 1000))
    return { status: 429, retryAfterSeconds: seconds, message: `is rate-limited for ${model || 'now'} for ${seconds}s more` }
  }

  /** Some key served `model` within the last day. */
  modelServed(model: string): boolean {
    const at = this.#served.get(model)
    return at !== undefined && this.#options.now() - at < SERVED_MEMORY_MS
  }

  /**
   * Drops cooldowns that have run out, from every key (and so from shared storage, through onChange): a pool that
   * serves few requests for a model would otherwise keep them until the next pick of that model.
   */
  sweep(): void {
    const now = this.#options.now()
    for (const [model, entry] of this.#perModel) this.#releaseExpired(model, entry, now)
    for (const key of this.keys) {
      const health = this.#health.get(key.id)!
      let changed = false
      for (const [model, cooldown] of Object.entries(health.cooldowns)) {
        if (cooldown.until > now) continue
        delete health.cooldowns[model]
        changed = true
        if (!health.disabled) this.#emit(key, 'restored', `cooldown ran out (${cooldown.reason})`, model)
      }
      if (changed) this.#options.onChange?.(key, health)
    }
    for (const [model, at] of this.#served) if (now - at >= SERVED_MEMORY_MS) this.#served.delete(model)
    this.#forgetExpiredPasses(now)
  }

  #forgetExpiredPasses(now: number): void {
    for (const [id, until] of this.#passed) if (until <= now) this.#passed.delete(id)
  }

  #forgetPasses(key: PoolKey): void {
    for (const id of this.#passed.keys()) if (id.startsWith(`${key.id}\n`)) this.#passed.delete(id)
  }

  disabledKeys(): PoolKey[] {
    return this.keys.filter((key) => this.#health.get(key.id)!.disabled)
  }

  /** Why `pick` found nothing, as the client should hear it. */
  unavailable(model: string): Unavailable {
    const now = this.#options.now()
    if (this.keys.length === 0) return { status: 503, message: 'No Gemini API keys are configured (API_KEYS is empty).' }
    if (now < this.#storm.backoffUntil) {
      return {
        status: 429,
        retryAfterSeconds: Math.ceil((this.#storm.backoffUntil - now) / 1000),
        message: 'Google is rate-limiting this gateway across many keys at once (an IP-wide limit); the pool is backing off.',
      }
    }
    if (this.#enabled.size === 0) {
      return { status: 503, message: `All ${this.keys.length} API keys are disabled (invalid, suspended or out of credit); they are re-checked on a schedule.` }
    }
    let earliest = Infinity
    for (const key of this.keys) {
      const health = this.#health.get(key.id)!
      const until = cooldownOf(health, model)?.until
      if (!health.disabled && until !== undefined && until > now) earliest = Math.min(earliest, until)
    }
    if (earliest !== Infinity && !this.#perModel.get(model)?.rotation.size) {
      return {
        status: 429,
        retryAfterSeconds: Math.max(1, Math.ceil((earliest - now) / 1000)),
        message: `Every enabled API key is rate-limited or out of quota for ${model}; the first one frees up in ${Math.ceil((earliest - now) / 1000)}s.`,
      }
    }
    return { status: 503, message: `No API key could serve ${model}: every available key failed for this request.` }
  }

  #coolingFor(health: KeyHealth, model: string): boolean {
    const until = cooldownOf(health, model)?.until
    return until !== undefined && until > this.#options.now()
  }

  #noteServed(model: string, now: number): void {
    const at = this.#served.get(model)
    if (at !== undefined && now - at < SERVED_REFRESH_MS) return
    // Re-inserting keeps the map in last-served order, so the oldest entry is the first to go past the cap.
    this.#served.delete(model)
    this.#served.set(model, now)
    if (this.#served.size > SERVED_MAX_MODELS) this.#served.delete(this.#served.keys().next().value!)
  }

  #emit(key: PoolKey, kind: KeyEvent['kind'], reason: string, model?: string, until?: number): void {
    this.#options.onEvent?.({
      keyId: key.id,
      label: key.label,
      kind,
      reason,
      ...(model === undefined ? {} : { model }),
      ...(until === undefined ? {} : { until }),
    })
  }

  /** Takes the key out of every rotation; true when it was in (a transition worth an event). */
  #disable(key: PoolKey, health: KeyHealth, disabled: NonNullable<KeyHealth['disabled']>): boolean {
    const was = health.disabled
    // A key an operator took out stays the operator's: a verdict arriving later (a request in flight) does not rewrite why.
    if (was?.byOperator && !disabled.byOperator) return false
    health.disabled = disabled
    if (was) return false
    this.#forgetPasses(key)
    this.#enabled.remove(key)
    for (const entry of this.#perModel.values()) entry.rotation.remove(key)
    return true
  }

  #enable(key: PoolKey, health: KeyHealth): void {
    health.disabled = undefined
    health.strikes = 0
    this.#enabled.add(key)
    for (const [model, entry] of this.#perModel) {
      if (!this.#coolingFor(health, model)) entry.rotation.add(key)
    }
  }

  /** True when the key was not cooling down for `model` before (a transition worth an event). */
  #coolDown(key: PoolKey, health: KeyHealth, model: string, until: number, reason: string): boolean {
    const current = cooldownOf(health, model)
    // A later verdict never shortens a cooldown that is already running.
    if (current && current.until >= until) return false
    const started = !current || current.until <= this.#options.now()
    health.cooldowns[model] = { until, reason }
    let entry = this.#perModel.get(model)
    if (!entry) {
      const eligible = this.keys.filter((k) => this.#enabled.has(k) && k.id !== key.id && !this.#coolingFor(this.#health.get(k.id)!, model))
      entry = { rotation: createRotation(eligible), expiries: new MinHeap() }
      this.#perModel.set(model, entry)
    }
    entry.rotation.remove(key)
    entry.expiries.push({ at: until, keyId: key.id })
    return started
  }

  #releaseExpired(model: string, entry: { rotation: Rotation; expiries: MinHeap<{ at: number; keyId: string }> }, now: number): void {
    for (let top = entry.expiries.peek(); top && top.at <= now; top = entry.expiries.peek()) {
      entry.expiries.pop()
      const health = this.#health.get(top.keyId)!
      const cooldown = cooldownOf(health, model)
      // A stale heap entry (the cooldown was extended since) is skipped; the newer entry releases the key.
      if (!cooldown || cooldown.until > now) continue
      delete health.cooldowns[model]
      const key = this.#byId.get(top.keyId)!
      if (!health.disabled) {
        entry.rotation.add(key)
        this.#emit(key, 'restored', `cooldown ran out (${cooldown.reason})`, model)
      }
      // Shared storage drops the entry too, or another instance (or a restart) would read it back.
      this.#options.onChange?.(key, health)
    }
    if (entry.expiries.size === 0) this.#perModel.delete(model)
  }
}
