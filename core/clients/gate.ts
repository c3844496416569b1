/**
 * One client token's limits bound to the shared counters: what the auth stage calls for each request of that token.
 * Counts are exact across instances on one Redis (atomic adds): a request adds itself to its token's request counters
 * and reads its budgets, all in one round trip, and is refused, its adds taken back, when that puts it past a limit.
 * Budgets are spent when an answer ends, from its usage, so answers in flight can pass a budget by their own size.
 * A token without limits gets no gate at all, so it costs nothing per request.
 */
import type { AttemptRecord } from '../context.ts'
import type { GatewayError } from '../errors.ts'
import type { Counters } from '../shared/index.ts'
import { countedLimits, isRequestField, limitRefusal, modelMatcher, reachedLimits, windowOf, type ClientLimits, type CountedField } from './limits.ts'

export interface ClientGate {
  /** Present when the token may use only some models. */
  allows?(model: string): boolean
  /** The models it may use, as the operator wrote them (for the refusal). */
  models: readonly string[]
  /**
   * Present when a request or token limit is set: counts one request and reads the budgets; the refusal when that
   * reaches a limit (the request is then not counted). Counters that fail let the request go.
   */
  admit?(now: number): Promise<GatewayError | undefined>
  /** Present when a token budget is set: adds the tokens an answer used. */
  spend?(tokens: number, now: number): void
}

/** The gate of a token with these limits, or undefined when there is nothing to check per request (an expiry is the authenticator's). */
export function createClientGate(tokenId: string, limits: ClientLimits, counters: Counters | undefined): ClientGate | undefined {
  const models = limits.models ?? []
  const counted = countedLimits(limits)
  if (models.length === 0 && counted.length === 0) return undefined
  const gate: ClientGate = { models, ...(models.length > 0 && { allows: modelMatcher(models) }) }
  if (counted.length === 0) return gate
  if (!counters) throw new Error('client limits need the shared counters')
  const name = (field: CountedField) => `client:${tokenId}:${field}`

  gate.admit = async (now) => {
    const windows = counted.map(({ field }) => windowOf(field, now).window)
    let totals: number[]
    try {
      totals = await Promise.all(
        counted.map(({ field }, i) => (isRequestField(field) ? counters.add(name(field), 1, windows[i]!) : counters.get(name(field), windows[i]!))),
      )
    } catch {
      return undefined
    }
    const stops = reachedLimits(counted, totals, now)
    if (stops.length === 0) return undefined
    // Not sent, so not counted. Until the take-back lands a counter looks fuller than it is, but only to requests that
    // the limit refusing this one refuses too (it is reached: only refusals push it past), so none is refused wrongly.
    counted.forEach(({ field }, i) => {
      if (isRequestField(field)) void counters.add(name(field), -1, windows[i]!).catch(() => {})
    })
    return limitRefusal(stops, now)
  }

  const budgets = counted.filter(({ field }) => !isRequestField(field))
  if (budgets.length > 0) {
    gate.spend = (tokens, now) => {
      if (!(tokens > 0)) return
      for (const { field } of budgets) void counters.add(name(field), tokens, windowOf(field, now).window).catch(() => {})
    }
  }
  return gate
}

/** The tokens a request's answers used: every attempt's total (a hedge's loser and a retried failure included, as Google counts them). */
export function tokensOf(attempts: readonly AttemptRecord[]): number {
  let total = 0
  for (const { usage } of attempts) {
    if (usage) total += usage.totalTokens ?? (usage.promptTokens ?? 0) + (usage.completionTokens ?? 0) + (usage.thinkingTokens ?? 0)
  }
  return total
}
