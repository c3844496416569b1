import type { Verdict } from './judge.ts'
import type { KeyPool, PoolKey } from './pool.ts'

export interface RecheckOptions {
  /** The gateway's pool and any pool a plugin made (a paid key, Vertex keys), as they are at each run. */
  pools: () => readonly KeyPool[]
  /** How many keys are tested at once, so a large pool never floods Google (or the proxy). */
  concurrency: number
  /** Sends one tiny request with the key (to its pool's API root) and returns the judge's verdict. */
  check: (key: PoolKey, pool: KeyPool) => Promise<Verdict>
  onError?: (error: unknown) => void
}

export interface RecheckResult {
  checked: number
  reenabled: number
}

export interface Recheck {
  /** Re-tests every disabled key now; a run already going is joined. An abort stops it taking further keys. */
  runNow(signal?: AbortSignal): Promise<RecheckResult>
  /** The key with this id is being re-tested right now. */
  checking(keyId: string): boolean
}

/**
 * Re-tests disabled keys; a key that answers again goes back into rotation. Keys that still fail get the new verdict
 * applied, so their recorded reason stays current. Keys an operator disabled are left alone: only an operator brings
 * those back. When it runs is the scheduler's business (job 'key-recheck').
 */
export function createRecheck(options: RecheckOptions): Recheck {
  let running: Promise<RecheckResult> | undefined
  const inFlight = new Set<string>()
  return {
    runNow: (signal) =>
      (running ??= recheckDisabled(options, inFlight, signal).finally(() => {
        running = undefined
      })),
    checking: (keyId) => inFlight.has(keyId),
  }
}

const KEY_WORKS: ReadonlySet<string> = new Set(['ok', 'rate-limited', 'quota-exhausted', 'model-unavailable'])

/** Whether a check's verdict proves Google accepts the key: a rate limit or an exhausted quota does, as a success does. */
export const keyWorks = (verdict: Verdict): boolean => KEY_WORKS.has(verdict.class)

const byOperator = (pool: KeyPool, key: PoolKey) => pool.health(key).disabled?.byOperator === true

async function recheckDisabled({ pools, concurrency, check, onError }: RecheckOptions, inFlight: Set<string>, signal?: AbortSignal): Promise<RecheckResult> {
  const queue = pools().flatMap((pool) => pool.disabledKeys().flatMap((key) => (byOperator(pool, key) ? [] : [{ key, pool }])))
  const result: RecheckResult = { checked: 0, reenabled: 0 }
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (signal?.aborted) return
      const { key, pool } = next
      inFlight.add(key.id)
      try {
        const verdict = await check(key, pool)
        result.checked++
        // An operator may have disabled it while the probe ran: theirs to bring back.
        if (byOperator(pool, key)) continue
        // A rate limit or an exhausted quota proves the key itself is accepted again.
        if (keyWorks(verdict) && pool.health(key).disabled) {
          pool.enable(key, `a re-check passed (${verdict.reason})`)
          result.reenabled++
        }
        pool.apply(key, verdict)
      } catch (error) {
        onError?.(error)
      } finally {
        inFlight.delete(key.id)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))
  return result
}
