import { createHash } from 'node:crypto'

/**
 * Which outbound proxy a key uses. Rendezvous (highest-random-weight) hashing: every proxy gets a score from
 * hash(key id, proxy) and the highest wins. A key keeps its proxy across restarts, and adding or removing a proxy
 * moves only the keys that must move (gemini-balance's `hash(key) % n` reshuffled every key, and Python's salted
 * hash reshuffled them on each restart).
 */
export function rendezvousProxy(keyId: string, proxies: readonly string[]): string | undefined {
  let best: string | undefined
  let bestScore = -1n
  for (const proxy of proxies) {
    const score = createHash('sha256').update(keyId).update('\0').update(proxy).digest().readBigUInt64BE(0)
    if (score > bestScore) {
      bestScore = score
      best = proxy
    }
  }
  return best
}

export interface ProxyChooser {
  (keyId: string): string | undefined
}

/** PROXIES_USE_CONSISTENCY_HASH_BY_API_KEY=false picks a proxy at random for every request instead. */
export function createProxyChooser(proxies: readonly string[], consistent: boolean): ProxyChooser {
  if (proxies.length === 0) return () => undefined
  if (!consistent) return () => proxies[Math.floor(Math.random() * proxies.length)]
  const memo = new Map<string, string | undefined>()
  return (keyId) => {
    let proxy = memo.get(keyId)
    if (proxy === undefined) memo.set(keyId, (proxy = rendezvousProxy(keyId, proxies)))
    return proxy
  }
}
