import type { Usage } from '../context.ts'
import { maskSecret, type IdOf } from '../identity.ts'
import type { KeyCaps } from './caps.ts'
import type { KeyEvent } from './events.ts'
import { createCapGate, type CapGate } from './internal/cap-gate.ts'
import { PassedProbes, ServedModels } from './internal/memories.ts'
import { ModelSets } from './internal/model-sets.ts'
import { cooldownOf, pinnedUnavailable, whyUnavailable, type Unavailable } from './internal/unavailable.ts'
import type { FailureClass, Verdict } from './judge.ts'
import { StormDetector, type StormPolicy, DEFAULT_STORM_POLICY } from './storm.ts'
import { createStrategy, type PoolKey, type Strategy, type StrategyOptions } from './strategies.ts'

export type { PoolKey, Unavailable }

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
   * reset): transitions only, not every verdict on a key already out. Not for health taken in by `adopt`.
   */
  onEvent?: (event: Omit<KeyEvent, 'id' | 'at' | 'pool'>) => void
  /** A key's id: the deployment's HMAC (core/identity.ts), the same on every instance. */
  idOf: IdOf
  /** The API root these keys belong to, when not BASE_URL (Vertex Express): their requests and re-checks go there. */
  baseUrl?: string
  /** How keys are chosen (KEY_STRATEGY); round robin when not given. */
  strategy?: StrategyOptions
  /** Request and token caps (core/keys/caps.ts); none when not given. */
  caps?: KeyCaps
}

/**
 * The key pool: which keys may serve which model right now. All decisions about *why* come from the judge's
 * verdicts and the caps; the pool only applies them. Picking is synchronous and O(1) or O(log n) by strategy: one
 * selector of the enabled keys, plus one per model that currently has keys cooling down or at a cap.
 */
export class KeyPool {
  readonly keys: readonly PoolKey[]
  readonly baseUrl: string | undefined
  readonly strategy: Strategy
  readonly #byId = new Map<string, PoolKey>()
  readonly #health = new Map<string, KeyHealth>()
  readonly #sets: ModelSets
  readonly #storm: StormDetector
  readonly #served = new ServedModels()
  readonly #passed = new PassedProbes()
  readonly #caps: CapGate | undefined
  readonly #options: KeyPoolOptions & { now: () => number }
  /** The storm backoff that was over when last looked at: picks read the clock again only for a later one. */
  #backoffPassed = 0

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
    this.strategy = createStrategy(options.strategy, keys, this.#byId)
    this.#sets = new ModelSets({
      keys,
      byId: this.#byId,
      strategy: this.strategy,
      now: () => this.#options.now(),
      mayServe: (key, model, now) => {
        const health = this.#health.get(key.id)!
        return !health.disabled && !coolingFor(health, model, now)
      },
      cooldownEnded: (key, model, now) => this.#cooldownEnded(key, model, now),
    })
    this.#caps = options.caps && createCapGate(options.caps, this.#sets, () => this.#options.now())
    this.#storm = new StormDetector({ ...DEFAULT_STORM_POLICY, ...options.storm })
  }

  get(id: string): PoolKey | undefined {
    return this.#byId.get(id)
  }

  health(key: PoolKey): Readonly<KeyHealth> {
    return this.#health.get(key.id)!
  }

  /**
   * The next key that may serve `model`, skipping the ones this request already tried. Reads the clock only when time
   * matters (a backoff since the last look, caps or cooldowns on the model): a reading is a number allocated.
   */
  pick(model: string, exclude?: ReadonlySet<string>): PoolKey | undefined {
    if (this.#storm.backoffUntil > this.#backoffPassed && this.#backingOff()) return undefined
    if (this.#sets.poolHold(model)) return undefined
    const key = this.#sets.selector(model).next(exclude)
    if (key && this.strategy.picked(key)) this.#sets.update(key)
    return key
  }

  /** A request starts on `key` (what least-in-flight counts). Every begin needs its `end`. */
  begin(key: PoolKey): void {
    if (this.strategy.started(key)) this.#sets.update(key)
  }

  /** The request on `key` ended: how the judge classed it (none when it was not judged) and its first-byte time in ms. */
  end(key: PoolKey, judged?: FailureClass, latencyMs?: number): void {
    if (this.strategy.finished(key, judged, latencyMs)) this.#sets.update(key)
  }

  /**
   * Counts a request on `key` against the caps set for it on `model`: undefined when none is set (nothing to wait
   * for), else whether it may go. A key (or the pool) at a cap is kept from the model until the cap's window ends.
   */
  admit(key: PoolKey, model: string): Promise<boolean> | undefined {
    return this.#caps?.admit(key, model)
  }

  /** Counts the input tokens of an answer `key` gave on `model` against its token caps. */
  countTokens(key: PoolKey, model: string, usage: Usage | undefined): void {
    this.#caps?.countTokens(key, model, usage)
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
        if (model) this.#served.note(model, now)
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
          this.#storm.rateLimited({ at: now, keyId: key.id, retryAfterMs: effect.until - now }, this.#sets.enabled.size)
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

  /** Forgets everything about a key's health: strikes, cooldowns, disablement (an operator's "reset"). Caps still count. */
  reset(key: PoolKey): void {
    const health = this.#health.get(key.id)
    if (!health) return
    if (health.disabled) this.#enable(key, health)
    health.strikes = 0
    health.cooldowns = {}
    health.lastFailure = undefined
    this.#passed.forgetKey(key.id)
    this.#sets.letBack(key, this.#options.now())
    if (this.strategy.refreshed(key)) this.#sets.update(key)
    this.#emit(key, 'reset', 'reset by an operator')
    this.#options.onChange?.(key, health)
  }

  /**
   * Makes the key's health the one given: what shared storage holds, or what another instance just did to the key (a
   * disable, a cooldown, an enable, a reset). It replaces, so a cooldown another instance's reset took away goes here
   * too; keeping the newer of two crossing changes is the store's business. No event, no onChange: it is news, not
   * a change of this instance's to pass on.
   */
  adopt(key: PoolKey, adopted: KeyHealth): void {
    const health = this.#health.get(key.id)
    if (!health) return
    const now = this.#options.now()
    const taken = Object.keys(health.cooldowns).filter((model) => !cooldownOf(adopted, model))
    for (const model of taken) delete health.cooldowns[model]
    for (const [model, cooldown] of Object.entries(adopted.cooldowns)) {
      if (cooldown.until <= now || cooldownOf(health, model)?.until === cooldown.until) continue
      health.cooldowns[model] = { until: cooldown.until, reason: cooldown.reason }
      this.#sets.keepOut(key, model, cooldown.until, now)
    }
    if (adopted.disabled && !health.disabled) this.#disable(key, health, adopted.disabled)
    else if (!adopted.disabled && health.disabled) this.#enable(key, health)
    else if (taken.length > 0 && !health.disabled) this.#sets.letBack(key, now)
    health.disabled = adopted.disabled
    health.strikes = adopted.strikes
    health.lastFailure = adopted.lastFailure
  }

  /** Remembers that `key` answered the fixed request on `model` just now, so the next doubt is settled without one. */
  notePassed(key: PoolKey, model: string, forMs: number): void {
    const now = this.#options.now()
    this.#passed.note(key.id, model, now + forMs, now)
  }

  passedRecently(key: PoolKey, model: string): boolean {
    return this.#passed.stands(key.id, model, this.#options.now())
  }

  /**
   * Why the key with this id may not serve `model` now (gone, disabled, cooling), or undefined when it may. For a
   * request pinned to one key: the answer names no other key, and carries Retry-After while the key cools down.
   */
  refusePinned(id: string, model: string): Unavailable | undefined {
    const key = this.#byId.get(id)
    return pinnedUnavailable(key && this.#health.get(id), model, this.#storm.backoffUntil, this.#options.now())
  }

  /** Some key served `model` within the last day. */
  modelServed(model: string): boolean {
    return this.#served.has(model, this.#options.now())
  }

  /**
   * Drops cooldowns and cap holds that have run out, from every key (and so from shared storage, through onChange):
   * a pool that serves few requests for a model would otherwise keep them until the next pick of that model.
   */
  sweep(): void {
    const now = this.#options.now()
    this.#sets.sweep(now)
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
    this.#served.forgetOld(now)
    this.#passed.forgetExpired(now)
  }

  disabledKeys(): PoolKey[] {
    return this.keys.filter((key) => this.#health.get(key.id)!.disabled)
  }

  /** Why `pick` found nothing, as the client should hear it; `until` tells a request that may wait when to look again. */
  unavailable(model: string): Unavailable {
    const health = (key: PoolKey) => this.#health.get(key.id)!
    return whyUnavailable({ keys: this.keys, health, backoffUntil: this.#storm.backoffUntil, sets: this.#sets }, model, this.#options.now())
  }

  #backingOff(): boolean {
    const until = this.#storm.backoffUntil
    if (this.#options.now() < until) return true
    this.#backoffPassed = until
    return false
  }

  /** Clears a cooldown of `key` on `model` that ran out, and tells; true when there was one. */
  #cooldownEnded(key: PoolKey, model: string, now: number): boolean {
    const health = this.#health.get(key.id)!
    const cooldown = cooldownOf(health, model)
    if (!cooldown || cooldown.until > now) return false
    delete health.cooldowns[model]
    if (!health.disabled) this.#emit(key, 'restored', `cooldown ran out (${cooldown.reason})`, model)
    // Shared storage drops the entry too, or another instance (or a restart) would read it back.
    this.#options.onChange?.(key, health)
    return true
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

  /** Takes the key out of every selector; true when it was in (a transition worth an event). */
  #disable(key: PoolKey, health: KeyHealth, disabled: NonNullable<KeyHealth['disabled']>): boolean {
    const was = health.disabled
    // A key an operator took out stays the operator's: a verdict arriving later (a request in flight) does not rewrite why.
    if (was?.byOperator && !disabled.byOperator) return false
    health.disabled = disabled
    if (was) return false
    this.#passed.forgetKey(key.id)
    this.#sets.remove(key)
    return true
  }

  #enable(key: PoolKey, health: KeyHealth): void {
    health.disabled = undefined
    health.strikes = 0
    this.#sets.enabled.add(key)
    this.#sets.letBack(key, this.#options.now())
    if (this.strategy.refreshed(key)) this.#sets.update(key)
  }

  /** True when the key was not cooling down for `model` before (a transition worth an event). */
  #coolDown(key: PoolKey, health: KeyHealth, model: string, until: number, reason: string): boolean {
    const current = cooldownOf(health, model)
    // A later verdict never shortens a cooldown that is already running.
    if (current && current.until >= until) return false
    const now = this.#options.now()
    health.cooldowns[model] = { until, reason }
    this.#sets.keepOut(key, model, until, now)
    return !current || current.until <= now
  }
}

function coolingFor(health: KeyHealth, model: string, now: number): boolean {
  const until = cooldownOf(health, model)?.until
  return until !== undefined && until > now
}
