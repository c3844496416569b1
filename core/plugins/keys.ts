import type { ConfirmRefusal } from '../keys/confirm.ts'
import { judgeAttempt } from '../keys/judge.ts'
import type { KeyPool, PoolKey } from '../keys/pool.ts'
import type { PluginKey, PluginKeys } from '../plugin.ts'
import type { ProxyChooser } from '../upstream/proxies.ts'

export interface PluginKeysDeps {
  pool: KeyPool
  /** The gateway's confirmer (one probe per key and minute, shared with key-select). */
  confirm: ConfirmRefusal
  /** CUSTOM_HEADERS */
  customHeaders: Record<string, string>
  chooseProxy: ProxyChooser
}

/**
 * The gateway's pool as plugins use it: the same picks, judge, confirmations and health as the pipeline's attempts.
 * Keys go out as ids and labels; the secret only inside the headers of a connection to Google.
 */
export function createPluginKeys({ pool, confirm, customHeaders, chooseProxy }: PluginKeysDeps): PluginKeys {
  const lent = (key: PoolKey | undefined): PluginKey | undefined => key && { id: key.id, label: key.label }
  const own = (key: PluginKey): PoolKey => {
    const found = pool.get(key.id)
    if (!found) throw new Error(`no key with id ${key.id} in the gateway's pool`)
    return found
  }
  return {
    pick: (model, exclude) => lent(pool.pick(model, exclude)),
    async judge(key, facts) {
      const poolKey = own(key)
      let verdict = judgeAttempt({ ...facts, now: Date.now(), modelServed: pool.modelServed(facts.model) })
      if (verdict.effect.kind === 'confirm') verdict = await confirm(poolKey, verdict, facts.model, pool)
      pool.apply(poolKey, verdict, facts.model)
      return verdict
    },
    unavailable: (model) => pool.unavailable(model),
    outbound(key) {
      const poolKey = own(key)
      return {
        headers: { ...customHeaders, 'x-goog-api-key': poolKey.secret },
        proxy: chooseProxy(poolKey.id),
        mask: (text) => text.replaceAll(poolKey.secret, poolKey.label),
      }
    },
  }
}
