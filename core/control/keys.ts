// The console's view of every key pool, and what an operator may do to keys.
import type { KeyStore } from '../../storage/queries.ts'
import { badRequest } from '../errors.ts'
import { GATEWAY_POOL, type Generation, type NamedPool } from '../generation.ts'
import type { IdOf } from '../identity.ts'
import type { PoolKey } from '../keys/pool.ts'
import type { KeyActionResult, KeyView, VerifyResult } from '../views.ts'
import { keyWorks } from '../keys/recheck.ts'

export type { KeyActionResult, KeyState, KeyView, VerifyResult } from '../views.ts'

export interface KeyQueries {
  /** Every key of every pool, in pool order. O(keys); cheap enough to call per console request at 5,000 keys. */
  list(): KeyView[]
  get(id: string): KeyView | undefined
  /** The id of a key given in full (gemini-balance's routes name keys by the key itself). */
  idOf(secret: string): string
  /** The secrets of these keys, for an operator who asked to see or copy them. */
  reveal(ids: readonly string[]): Record<string, string>
  /** Adds keys to `pool` (default 'gemini'), saved in the database; duplicates of any key already held are skipped. */
  add(secrets: readonly string[], pool?: string): Promise<{ added: KeyView[]; duplicates: number }>
  /** Deletes console-added keys; keys from the config are refused. */
  remove(ids: readonly string[]): Promise<KeyActionResult>
  /** Sends the fixed probe request with each key (KEY_CHECK_CONCURRENCY at once) and applies the verdict. */
  verify(ids: readonly string[]): Promise<VerifyResult[]>
  /** Clears strikes, cooldowns and a disable. */
  reset(ids: readonly string[]): KeyActionResult
  enable(ids: readonly string[]): KeyActionResult
  /** Takes keys out of rotation until enabled again (the re-check does not bring back a key an operator disabled). */
  disable(ids: readonly string[], reason?: string): KeyActionResult
}

export interface KeyControlDeps {
  /** The generation serving now: its pools are the ones acted on. */
  generation: () => Generation
  store: KeyStore
  /** Rebuilds the generation after keys were added or removed. */
  reload: () => Promise<void>
  idOf: IdOf
}

export function createKeyControl(deps: KeyControlDeps): KeyQueries {
  const checking = new Set<string>()
  const find = (id: string): { named: NamedPool; key: PoolKey } | undefined => {
    for (const named of deps.generation().pools) {
      const key = named.pool.get(id)
      if (key) return { named, key }
    }
    return undefined
  }
  const view = (named: NamedPool, key: PoolKey, now: number): KeyView => {
    const health = named.pool.health(key)
    const cooldowns = Object.entries(health.cooldowns)
      .filter(([, cooldown]) => cooldown.until > now)
      .map(([model, cooldown]) => ({ model, until: cooldown.until, reason: cooldown.reason }))
    return {
      id: key.id,
      label: key.label,
      pool: named.name,
      source: named.configured.has(key.id) ? 'config' : 'console',
      state: health.disabled ? 'disabled' : cooldowns.length > 0 ? 'cooling' : 'healthy',
      ...(health.disabled ? { disabled: { reason: health.disabled.reason, at: health.disabled.at, byOperator: health.disabled.byOperator === true } } : {}),
      cooldowns,
      strikes: health.strikes,
      ...(health.lastFailure ? { lastFailure: health.lastFailure } : {}),
      checking: checking.has(key.id) || deps.generation().recheck.checking(key.id),
    }
  }
  /** Applies `act` to each id's key; what it returns (a reason) refuses that one. */
  const each = (ids: readonly string[], act: (found: { named: NamedPool; key: PoolKey }) => string | void): KeyActionResult => {
    const result: KeyActionResult = { done: [], notFound: [], refused: [] }
    for (const id of new Set(ids)) {
      const found = find(id)
      if (!found) result.notFound.push(id)
      else {
        const refusal = act(found)
        if (refusal) result.refused.push({ id, reason: refusal })
        else result.done.push(id)
      }
    }
    return result
  }
  const verifyOne = async (id: string): Promise<VerifyResult> => {
    const found = find(id)
    if (!found) return { id, ok: false, class: 'not-found', status: null, message: 'No pool holds this key.', state: 'disabled' }
    const { named, key } = found
    const { config } = deps.generation()
    checking.add(id)
    try {
      const verdict = await deps.generation().probe(key, { operation: 'generateContent', model: config.testModel, baseUrl: named.pool.baseUrl })
      const ok = keyWorks(verdict)
      // An operator's disable stands until an operator's enable: a passing check does not lift it.
      if (ok && !named.pool.health(key).disabled?.byOperator) named.pool.enable(key)
      named.pool.apply(key, verdict)
      return { id, ok, class: verdict.class, status: null, message: verdict.reason, state: view(named, key, Date.now()).state }
    } finally {
      checking.delete(id)
    }
  }

  return {
    list() {
      const now = Date.now()
      return deps.generation().pools.flatMap((named) => named.pool.keys.map((key) => view(named, key, now)))
    },
    get(id) {
      const found = find(id)
      return found && view(found.named, found.key, Date.now())
    },
    idOf: deps.idOf,
    reveal(ids) {
      const secrets: Record<string, string> = {}
      for (const id of ids) {
        const found = find(id)
        if (found) secrets[id] = found.key.secret
      }
      return secrets
    },
    async add(secrets, pool = GATEWAY_POOL) {
      if (!deps.generation().pools.some((named) => named.name === pool)) throw badRequest(`No key pool named "${pool}" is running.`, 'pool')
      const seen = new Set<string>()
      const fresh = secrets
        .map((secret) => secret.trim())
        .filter((secret) => {
          const id = deps.idOf(secret)
          if (!secret || seen.has(id) || find(id)) return false
          seen.add(id)
          return true
        })
      if (fresh.length > 0) {
        await deps.store.add(pool, fresh)
        await deps.reload()
      }
      const now = Date.now()
      const added = fresh.flatMap((secret) => {
        const found = find(deps.idOf(secret))
        return found ? [view(found.named, found.key, now)] : []
      })
      return { added, duplicates: secrets.length - fresh.length }
    },
    async remove(ids) {
      const removing: Array<{ pool: string; secret: string }> = []
      const result = each(ids, ({ named, key }) => {
        if (named.configured.has(key.id))
          return `set in ${named.name === GATEWAY_POOL ? 'API_KEYS or gateway.config.ts' : `the options of plugin "${named.name}"`}: remove it there`
        removing.push({ pool: named.name, secret: key.secret })
      })
      for (const pool of new Set(removing.map((entry) => entry.pool))) {
        await deps.store.remove(
          pool,
          removing.filter((entry) => entry.pool === pool).map((entry) => entry.secret),
        )
      }
      if (removing.length > 0) await deps.reload()
      return result
    },
    async verify(ids) {
      const queue = [...new Set(ids)]
      const results: VerifyResult[] = []
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) results.push(await verifyOne(id))
      }
      const concurrency = Math.min(deps.generation().config.keyCheckConcurrency, queue.length)
      await Promise.all(Array.from({ length: concurrency }, worker))
      const order = new Map(ids.map((id, index) => [id, index]))
      return results.sort((a, b) => order.get(a.id)! - order.get(b.id)!)
    },
    reset: (ids) => each(ids, ({ named, key }) => named.pool.reset(key)),
    enable: (ids) => each(ids, ({ named, key }) => named.pool.enable(key)),
    disable: (ids, reason) => each(ids, ({ named, key }) => named.pool.disable(key, reason)),
  }
}
