import type { KeyProbe } from './check.ts'
import { probePassed, settleConfirmation, type Verdict } from './judge.ts'
import type { KeyPool, PoolKey } from './pool.ts'

/**
 * Settles a verdict whose effect is `confirm` (see judge.ts) on the key of `pool` that got it: returns the verdict to
 * apply to the key instead.
 */
export type ConfirmRefusal = (key: PoolKey, provisional: Verdict, model: string, pool: KeyPool) => Promise<Verdict>

export interface ConfirmOptions {
  probe: KeyProbe
  /** TEST_MODEL: the model of the fixed request when the key itself is in doubt. */
  testModel: string
  /** How long a key that passed a probe is taken as fine without probing again. */
  passedForMs?: number
}

/**
 * Confirms ambiguous refusals on the key with the gateway's fixed request. A key that just passed is not probed
 * again for a while, and concurrent confirmations of one key share one probe: a client repeating a request that
 * Google refuses costs at most one probe per key and minute, never one per request.
 */
export function createRefusalConfirmer({ probe, testModel, passedForMs = 60_000 }: ConfirmOptions): ConfirmRefusal {
  const inFlight = new Map<string, Promise<Verdict>>()
  return async (key, provisional, model, pool) => {
    if (provisional.effect.kind !== 'confirm') return provisional
    const scope = provisional.effect.probe
    const baseUrl = pool.baseUrl
    const target =
      scope === 'key' ? ({ operation: 'generateContent', model: testModel, baseUrl } as const) : ({ operation: 'countTokens', model, baseUrl } as const)
    if (pool.passedRecently(key, target.model)) return settleConfirmation(provisional, PASSED)
    const id = `${key.id}\n${target.model}`
    let running = inFlight.get(id)
    if (!running) {
      running = probe(key, target).finally(() => inFlight.delete(id))
      inFlight.set(id, running)
    }
    const verdict = await running
    if (probePassed(scope, verdict)) pool.notePassed(key, target.model, passedForMs)
    return settleConfirmation(provisional, verdict)
  }
}

const PASSED: Verdict = { class: 'ok', retry: false, effect: { kind: 'success' }, reason: 'passed a fixed request moments ago' }
