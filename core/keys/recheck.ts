import type { Verdict } from './judge.ts'
import type { KeyPool, PoolKey } from './pool.ts'

export interface RecheckOptions {
  /** The gateway's pool and any pool a plugin made (a paid key, Vertex keys), as they are at each run. */
  pools: () => readonly KeyPool[]
  /** CHECK_INTERVAL_HOURS; 0 turns the schedule off (runNow still works). */
  intervalHours: number
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
  runNow(): Promise<RecheckResult>
  stop(): void
}

/**
 * Re-tests disabled keys on a schedule; a key that answers again goes back into rotation. Keys that still fail
 * get the new verdict applied, so their recorded reason stays current.
 */
export function scheduleRecheck(options: RecheckOptions): Recheck {
  let running: Promise<RecheckResult> | undefined

  const runNow = (): Promise<RecheckResult> =>
    (running ??= recheckDisabled(options).finally(() => {
      running = undefined
    }))

  const intervalMs = Math.min(options.intervalHours * 3_600_000, 2 ** 31 - 1) // Node fires longer intervals every 1 ms
  const timer = intervalMs > 0 ? setInterval(() => void runNow().catch(options.onError), intervalMs) : undefined
  timer?.unref()

  return { runNow, stop: () => clearInterval(timer) }
}

const KEY_WORKS = new Set(['ok', 'rate-limited', 'quota-exhausted', 'model-unavailable'])

async function recheckDisabled({ pools, concurrency, check, onError }: RecheckOptions): Promise<RecheckResult> {
  const queue = pools().flatMap((pool) => pool.disabledKeys().map((key) => ({ key, pool })))
  const result: RecheckResult = { checked: 0, reenabled: 0 }
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { key, pool } = next
      try {
        const verdict = await check(key, pool)
        result.checked++
        // A rate limit or an exhausted quota proves the key itself is accepted again.
        if (KEY_WORKS.has(verdict.class)) {
          pool.enable(key)
          result.reenabled++
        }
        pool.apply(key, verdict)
      } catch (error) {
        onError?.(error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker))
  return result
}
