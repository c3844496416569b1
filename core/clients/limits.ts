/**
 * What a client token may do, decided without I/O: the models it may name, the windows its counts live in, when a
 * count is past its limit, and what the client hears then (a GatewayError each dialect renders in its own shape).
 *
 * Minutes, days and months are UTC. A client budget is the operator's policy, not Google's quota: UTC days do not
 * move with daylight saving, every day is 24 hours, and they are the days the console's statistics are kept in
 * (stats_daily), so the usage it shows and the counts a limit is decided on cover the same span.
 */
import type { ClientLimits } from '../../storage/queries.ts'
import { GatewayError } from '../errors.ts'
import { minuteAt, type Span } from '../keys/internal/windows.ts'
import type { CounterWindow } from '../shared/index.ts'

export type { ClientLimits }

/** Requests count themselves as they start; budgets are spent by the answers' tokens when they end. */
export type CountedField = 'rpm' | 'rpd' | 'tokensPerDay' | 'tokensPerMonth'
export const COUNTED_FIELDS: readonly CountedField[] = ['rpm', 'rpd', 'tokensPerDay', 'tokensPerMonth']

export const isRequestField = (field: CountedField): boolean => field === 'rpm' || field === 'rpd'

export interface CountedLimit {
  field: CountedField
  limit: number
}

/** A limit a request ran into, and when its window ends. */
export interface LimitStop extends CountedLimit {
  until: number
}

const DAY_MS = 86_400_000
const MINUTE: CounterWindow = { ms: 60_000 }
const DAY: CounterWindow = { ms: DAY_MS }
const WHAT: Record<CountedField, string> = {
  rpm: 'requests per minute',
  rpd: 'requests per day (UTC)',
  tokensPerDay: 'tokens per day (UTC)',
  tokensPerMonth: 'tokens per month (UTC)',
}

/** Only the limit fields of `source` that are set (a configured token's entry carries its token and name too). */
export function pickLimits(source: ClientLimits): ClientLimits {
  const limits: ClientLimits = {}
  if (source.models?.length) limits.models = [...source.models]
  for (const field of COUNTED_FIELDS) if (source[field] !== undefined) limits[field] = source[field]
  if (source.expiresAt !== undefined) limits.expiresAt = source.expiresAt
  return limits
}

/** The limits that are counted for this token, in a fixed order; none for a token without any. */
export function countedLimits(limits: ClientLimits): CountedLimit[] {
  return COUNTED_FIELDS.flatMap((field) => {
    const limit = limits[field]
    return limit !== undefined && limit > 0 ? [{ field, limit }] : []
  })
}

/**
 * Whether a model id is one of `patterns`: an exact id, or one starting with what comes before a final `*`
 * (`gemini-2.5-*`, and `gemini-2.5-flash*` for its variants such as `-search`).
 */
export function modelMatcher(patterns: readonly string[]): (model: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !pattern.endsWith('*')))
  const prefixes = patterns.filter((pattern) => pattern.endsWith('*')).map((pattern) => pattern.slice(0, -1))
  return (model) => exact.has(model) || prefixes.some((prefix) => model.startsWith(prefix))
}

/** The UTC day that holds `now`. */
export function utcDayAt(now: number): Span {
  const start = now - (now % DAY_MS)
  return { start, end: start + DAY_MS }
}

/** The UTC calendar month that holds `now` (28 to 31 days). */
export function utcMonthAt(now: number): Span {
  const date = new Date(now)
  const year = date.getUTCFullYear()
  const month = date.getUTCMonth()
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) }
}

/** The span a counted limit's count covers at `now`, and its counter window. */
export function windowOf(field: CountedField, now: number): { span: Span; window: CounterWindow } {
  if (field === 'rpm') return { span: minuteAt(now), window: MINUTE }
  if (field === 'tokensPerMonth') {
    // Months differ in length: each is a window of its own, anchored at its first day.
    const span = utcMonthAt(now)
    return { span, window: { ms: span.end - span.start, anchor: span.start } }
  }
  return { span: utcDayAt(now), window: DAY }
}

/**
 * The limits the totals break (pure). A request's own count is in its request totals, so it is refused past the
 * limit; a budget is read before the answer spends it, so a request is refused once the budget is used up.
 */
export function reachedLimits(counted: readonly CountedLimit[], totals: readonly number[], now: number): LimitStop[] {
  const stops: LimitStop[] = []
  counted.forEach(({ field, limit }, index) => {
    const total = totals[index] ?? 0
    if (isRequestField(field) ? total > limit : total >= limit) stops.push({ field, limit, until: windowOf(field, now).span.end })
  })
  return stops
}

/** Whole seconds until `until`, at least 1 (Retry-After). */
export function retryAfterSeconds(until: number, now: number): number {
  return Math.max(1, Math.ceil((until - now) / 1000))
}

/** The 429 for a request past its token's limits: Retry-After is when the last of them resets. */
export function limitRefusal(stops: readonly LimitStop[], now: number): GatewayError {
  const seconds = retryAfterSeconds(Math.max(...stops.map((stop) => stop.until)), now)
  const reached = stops.map(({ field, limit }) => `${limit} ${WHAT[field]}`).join(', ')
  return new GatewayError(429, `This gateway token is at its limit (${reached}); retry in ${seconds} s.`, { headers: { 'retry-after': String(seconds) } })
}

/** The 403 for a model the token may not use, naming it and (up to ten of) those it may. */
export function modelRefusal(model: string, allowed: readonly string[]): GatewayError {
  const shown = allowed.slice(0, 10).join(', ') + (allowed.length > 10 ? ', ...' : '')
  return new GatewayError(403, `This gateway token may not use the model ${model}; it may use ${shown}.`)
}
