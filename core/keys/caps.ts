/**
 * Per-key caps: requests and input tokens per minute and per day, per key or for the whole pool, each counted per
 * model as Google counts its quotas, so a key at a cap is skipped before Google answers 429. Minutes are UTC minutes;
 * days run from midnight Pacific to the next, as Google's daily quotas do (23 or 25 h on the days clocks change).
 *
 * Counts live in the shared state's atomic counters, exact across instances on one Redis: a request adds itself to
 * the request counters it falls under and reads the token counters (one round trip for the key's caps, one for the
 * pool's), and is refused, its adds taken back, when that puts a counter past its cap. Tokens are added when the
 * answer ends, from its usage. A key or model without caps costs nothing: no lookup past a cached miss, no round trip.
 */
import type { CounterWindow, Counters } from '../shared/index.ts'
import type { PoolKey } from './strategies.ts'
import { createPacificDays, dayWindow, minuteAt, type Span } from './internal/windows.ts'

/** Each a whole number; 0 lifts a cap a less specific setting sets (a paid key among free ones). */
export interface CapLimits {
  /** Requests per minute. */
  rpm?: number
  /** Requests per day (midnight to midnight Pacific). */
  rpd?: number
  /** Input tokens per minute (Google's TPM counts the prompt). */
  tpm?: number
  /** Input tokens per day. */
  tpd?: number
}

type ByModel = Readonly<Record<string, CapLimits>>

/** `keyCaps` in gateway.config.ts. Every cap counts each model on its own; the most specific setting of a field wins. */
export interface CapsConfig extends CapLimits {
  /** Per model, for every key. */
  models?: ByModel
  /** Per key id: the key's own, and its own per model. */
  keys?: Readonly<Record<string, CapLimits & { models?: ByModel }>>
  /** The whole pool together, and per model. */
  pool?: CapLimits & { models?: ByModel }
}

/** The caps that hold for one key on one model. */
export interface ResolvedCaps {
  key?: CapLimits
  pool?: CapLimits
}

/** Why a key (or the whole pool) must wait, and until when. */
export interface CapStop {
  scope: 'key' | 'pool'
  until: number
  reason: string
}

export interface KeyCaps {
  /** The caps on `key` for `model`, undefined when none is set (then nothing is counted). Cached per model. */
  limits(key: PoolKey, model: string): ResolvedCaps | undefined
  /** Counts one request; the caps it would break (the request must not go, and is not counted), or undefined. */
  admit(key: PoolKey, model: string, caps: ResolvedCaps, now: number): Promise<CapStop[] | undefined>
  /** Counts the input tokens of an answer; the token caps that are now reached, or undefined. */
  countTokens(key: PoolKey, model: string, caps: ResolvedCaps, tokens: number, now: number): Promise<CapStop[] | undefined>
}

export interface KeyCapsOptions {
  /** The shared state's atomic counters: Redis across instances, memory in one process. */
  counters: Counters
  /** The pool's name: the counters of its whole-pool caps are named after it. */
  pool: string
}

const FIELDS = ['rpm', 'rpd', 'tpm', 'tpd'] as const
type Field = (typeof FIELDS)[number]
const WHAT: Record<Field, string> = { rpm: 'requests per minute', rpd: 'requests per day', tpm: 'input tokens per minute', tpd: 'input tokens per day' }
const MINUTE: CounterWindow = { ms: 60_000 }
/** Models whose resolved caps are remembered; past this (clients naming many models) the memory starts over. */
const MAX_CACHED_MODELS = 1024

/** The caps of `config` for one key on one model (pure). */
export function resolveCaps(config: CapsConfig, keyId: string, model: string): ResolvedCaps | undefined {
  const own = ownEntry(config.keys, keyId)
  const key = pickFields([ownEntry(own?.models, model), own, ownEntry(config.models, model), config])
  const pool = pickFields([ownEntry(config.pool?.models, model), config.pool])
  return key || pool ? { ...(key && { key }), ...(pool && { pool }) } : undefined
}

/** Whether `config` sets any cap at all (a gateway without caps builds nothing of this). */
export function hasCaps(config: CapsConfig | undefined): config is CapsConfig {
  if (!config) return false
  const any = (limits: CapLimits | undefined) => FIELDS.some((field) => limits?.[field])
  const anyIn = (models: ByModel | undefined) => Object.values(models ?? {}).some(any)
  return (
    any(config) ||
    anyIn(config.models) ||
    any(config.pool) ||
    anyIn(config.pool?.models) ||
    Object.values(config.keys ?? {}).some((k) => any(k) || anyIn(k.models))
  )
}

export function createKeyCaps(config: CapsConfig, { counters, pool }: KeyCapsOptions): KeyCaps {
  const days = createPacificDays()
  const shared = new Map<string, ResolvedCaps | null>()
  const perKey = new Map<string, Map<string, ResolvedCaps | null>>()

  const windowOf = (field: Field, now: number): { span: Span; window: CounterWindow } => {
    if (field === 'rpm' || field === 'tpm') return { span: minuteAt(now), window: MINUTE }
    const span = days(now)
    return { span, window: dayWindow(span) }
  }
  const scopes = (key: PoolKey, caps: ResolvedCaps) =>
    [
      { scope: 'key' as const, owner: `key:${key.id}`, limits: caps.key },
      { scope: 'pool' as const, owner: `pool:${pool}`, limits: caps.pool },
    ].filter((entry): entry is typeof entry & { limits: CapLimits } => entry.limits !== undefined)
  const counterName = (owner: string, model: string, field: Field) => `caps:${owner}:${model}:${field}`
  const stop = (scope: CapStop['scope'], field: Field, limit: number, model: string, span: Span): CapStop => ({
    scope,
    until: span.end,
    reason: `${scope === 'pool' ? "the pool's" : "the key's"} cap of ${limit} ${WHAT[field]} on ${model} is reached`,
  })
  const stops = (found: (CapStop | undefined)[]) => {
    const reached = found.filter((s): s is CapStop => s !== undefined)
    return reached.length > 0 ? reached : undefined
  }

  return {
    limits(key, model) {
      const own = config.keys && Object.hasOwn(config.keys, key.id)
      let cache = shared
      if (own) {
        cache = perKey.get(key.id) ?? new Map()
        perKey.set(key.id, cache)
      }
      let caps = cache.get(model)
      if (caps === undefined) {
        if (cache.size >= MAX_CACHED_MODELS) cache.clear()
        caps = resolveCaps(config, key.id, model) ?? null
        cache.set(model, caps)
      }
      return caps ?? undefined
    },

    async admit(key, model, caps, now) {
      const added: { name: string; window: CounterWindow }[] = []
      // The key's caps first, then the pool's, each in one round trip. A request one scope refuses is taken back from
      // the scopes before it; while it is, those look fuller than they are, but only to requests the refusing scope
      // would refuse too (it is full: only refusals push it past its cap). So no request is refused wrongly.
      for (const { scope, owner, limits } of scopes(key, caps)) {
        const checks: Promise<CapStop | undefined>[] = []
        for (const field of FIELDS) {
          const limit = limits[field]
          if (limit === undefined) continue
          const { span, window } = windowOf(field, now)
          const name = counterName(owner, model, field)
          const over = (total: number) => (field === 'rpm' || field === 'rpd' ? total > limit : total >= limit)
          const counted = field === 'rpm' || field === 'rpd' ? counters.add(name, 1, window) : counters.get(name, window)
          if (field === 'rpm' || field === 'rpd') added.push({ name, window })
          checks.push(counted.then((total) => (over(total) ? stop(scope, field, limit, model, span) : undefined)))
        }
        const reached = stops(await Promise.all(checks))
        if (!reached) continue
        // Not sent, so not counted: the counters keep the requests Google got.
        for (const { name, window } of added) void counters.add(name, -1, window).catch(() => {})
        return reached
      }
      return undefined
    },

    async countTokens(key, model, caps, tokens, now) {
      if (!(tokens > 0)) return undefined
      const checks: Promise<CapStop | undefined>[] = []
      for (const { scope, owner, limits } of scopes(key, caps)) {
        for (const field of ['tpm', 'tpd'] as const) {
          const limit = limits[field]
          if (limit === undefined) continue
          const { span, window } = windowOf(field, now)
          checks.push(
            counters
              .add(counterName(owner, model, field), tokens, window)
              .then((total) => (total >= limit ? stop(scope, field, limit, model, span) : undefined)),
          )
        }
      }
      return checks.length > 0 ? stops(await Promise.all(checks)) : undefined
    },
  }
}

/** The first setting of each field along `chain` (most specific first) that caps (not 0), or undefined when none does. */
function pickFields(chain: (CapLimits | undefined)[]): CapLimits | undefined {
  let picked: CapLimits | undefined
  for (const field of FIELDS) {
    const limit = chain.find((limits) => limits?.[field] !== undefined)?.[field]
    if (limit) (picked ??= {})[field] = limit
  }
  return picked
}

function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return record && Object.hasOwn(record, name) ? record[name] : undefined
}
