/**
 * The health judge: one upstream attempt in, one verdict out.
 *
 * Pure — no I/O, no clock reads (`facts.now` is the time), no state. The key pool applies the verdict's
 * `effect` to the key; the upstream stage uses `retry` (plus its own "nothing sent to the client yet" and
 * attempt-budget checks) to decide whether to try another key. DESIGN.md principle 3: decide from a failure
 * taxonomy, not a counter; only key-attributable classes touch key health.
 *
 * Every rule below carries a one-line "why". Bodies come in every shape Gemini (or a proxy in front of it)
 * produces: the Google error envelope, the same wrapped in an array (`[{"error":{...}}]`, OpenAI-compat layer
 * and non-SSE streams), a pretty-printed envelope handed over as text (errors on `alt=sse` streams are not
 * `data:` events), a non-JSON string (an HTML page from a proxy), or nothing at all.
 */

import type { Operation } from '../context.ts'
import { describeAnswer, hasCandidates, isEmptyAnswer } from './internal/answers.ts'
import { formatDuration, parseRetryAfterHeader } from './internal/durations.ts'
import { parseJsonText, readError, type UpstreamError } from './internal/google-errors.ts'
import { nextPacificMidnight } from './quota-clock.ts'

export { isEmptyAnswer } from './internal/answers.ts'
export { formatDuration, parseRetryAfterHeader, parseRetryDelay } from './internal/durations.ts'

export type FailureClass =
  | 'ok'
  | 'rate-limited'
  | 'quota-exhausted'
  | 'invalid-key'
  | 'model-unavailable'
  | 'upstream-error'
  | 'transport-error'
  | 'client-error'
  | 'client-cancelled'
  | 'empty-answer'
  | 'ambiguous'
  /** Never a verdict of the judge: the gateway itself failed (a plugin threw, a bug) before Google could answer. */
  | 'gateway-error'

export interface AttemptFacts {
  operation: Operation
  /** Upstream model of the attempt (cooldown scope). Empty for operations that have none (files, model list). */
  model: string
  /** Epoch ms. */
  now: number
  /** Upstream HTTP status; undefined when no response arrived. */
  status?: number
  /**
   * Parsed JSON body when the answer was JSON (for streams: the FIRST event's JSON; undefined if the stream had
   * no event); a string if it was not JSON.
   */
  body?: unknown
  /** Retry-After header if any (seconds or HTTP date). */
  retryAfterHeader?: string
  /** When no response (or the body broke off): error code or name, e.g. 'ECONNRESET', 'UND_ERR_BODY_TIMEOUT'. */
  transportError?: string
  /** The client went away (always wins). */
  cancelled?: boolean
  /** `body` is a stream's first event and more are coming (it has no finishReason yet): not the whole answer. */
  partial?: boolean
  /**
   * The attempt was the gateway's own fixed request (a key re-check or confirmation): no byte of it came from a
   * client, so a refusal can only be about the key or the model.
   */
  fixedRequest?: boolean
  /** Some key of the pool served this model recently: it exists, so a 404 may be about this key's access to it. */
  modelServed?: boolean
}

export type KeyEffect =
  | { kind: 'none' }
  /** Clears the key's strike count. */
  | { kind: 'success' }
  | { kind: 'cooldown'; model: string; until: number; reason: 'rate-limited' | 'quota-exhausted' | 'model-unavailable' }
  /** Known-invalid/suspended/leaked/billing: out of rotation until a re-check succeeds. */
  | { kind: 'disable'; reason: string }
  /** Ambiguous: counts toward MAX_FAILURES. */
  | { kind: 'strike'; reason: string }
  /**
   * The refusal may be the key's or the request's and only a message (which can echo the client) tells them
   * apart: send the fixed request with this key (on this model for 'model') and settle with `settleConfirmation`.
   */
  | { kind: 'confirm'; probe: 'key' | 'model' }

export interface Verdict {
  class: FailureClass
  /** Worth another attempt on ANOTHER key (the caller also checks "nothing sent yet" and the attempt budget). */
  retry: boolean
  effect: KeyEffect
  /** For rate limits, quotas and unavailable models: how long until this key may serve this model again. */
  retryAfterMs?: number
  /** Short human text for logs and error messages. */
  reason: string
}

export interface JudgePolicy {
  /** Cooldown for a rate limit that names no delay. */
  defaultRateLimitCooldownMs: number
  /** Upper bound for per-minute-class cooldowns (per-day quotas run to the daily reset instead). */
  maxCooldownMs: number
  /** Cooldown of one key for one model after "model not available to this key". */
  modelUnavailableCooldownMs: number
}

export const DEFAULT_JUDGE_POLICY: Readonly<JudgePolicy> = Object.freeze({
  defaultRateLimitCooldownMs: 60_000, // free-tier RPM windows recover within a minute
  maxCooldownMs: 3_600_000, // a bogus huge delay must not park a key for days
  modelUnavailableCooldownMs: 3_600_000, // re-probe hourly: access changes rarely, probing costs a request
})

/** Cooldowns never go below this: a 0 s / past delay would put the key straight back into a 429 loop. */
const MIN_COOLDOWN_MS = 1_000

// ---------------------------------------------------------------------------------------------------------------
// judgeAttempt

export function judgeAttempt(facts: AttemptFacts, policy?: Partial<JudgePolicy>): Verdict {
  const p = resolvePolicy(policy)

  // Why: a client hanging up says nothing about the key, and there is no one left to answer.
  if (facts.cancelled) return verdict('client-cancelled', false, NONE, 'client cancelled the request')

  // Why: no answer means network/proxy/DNS trouble, not the key's fault; a dead network must not disable the pool.
  if (facts.status === undefined) {
    return verdict('transport-error', true, NONE, `transport error: ${facts.transportError ?? 'no response'}`)
  }

  const status = facts.status
  if (status >= 200 && status < 300) {
    // Why: headers arrived but the body broke off — a truncated answer is a transport failure, not an answer.
    if (facts.transportError) {
      return verdict('transport-error', true, NONE, `transport error after ${status}: ${facts.transportError}`)
    }
    return judgeSuccessStatus(facts, p)
  }
  return judgeErrorStatus(status, readError(facts.body), facts, p)
}

/** The fixed request proved the key accepted (for a 'model' probe: accepted on that model). */
export function probePassed(scope: 'key' | 'model', probe: Verdict): boolean {
  // Why: a rate limit or an exhausted quota still means Google accepted the key (and the model, for a model probe).
  if (probe.class === 'ok' || probe.class === 'rate-limited' || probe.class === 'quota-exhausted' || probe.class === 'empty-answer') return true
  // Why: a key probe runs on TEST_MODEL; that model being unavailable to the key says the key itself is accepted.
  return scope === 'key' && probe.class === 'model-unavailable'
}

/**
 * The verdict on an attempt whose refusal needed confirming (`effect.kind === 'confirm'`), given the verdict on the
 * fixed request the same key then answered (judged with `fixedRequest: true`).
 */
export function settleConfirmation(provisional: Verdict, probe: Verdict): Verdict {
  const scope = provisional.effect.kind === 'confirm' ? provisional.effect.probe : 'key'
  if (probePassed(scope, probe)) {
    return verdict('client-error', false, NONE, `${provisional.reason} (the key answered a fixed request: the request itself was refused)`)
  }
  // Why: the key refused the fixed request too: the refusal was the key's; apply that and try another key.
  if (probe.class === 'invalid-key' || probe.class === 'ambiguous' || probe.class === 'model-unavailable') {
    return { ...probe, retry: true, reason: `${provisional.reason}; a fixed request was refused too: ${probe.reason}` }
  }
  // Why: the probe itself failed (network, outage): nothing is proven against the key, and Google's answer stands.
  return verdict('client-error', false, NONE, `${provisional.reason} (not confirmed on the key: ${probe.reason})`)
}

function judgeSuccessStatus(facts: AttemptFacts, p: JudgePolicy): Verdict {
  let body = facts.body
  if (typeof body === 'string') body = parseJsonText(body) ?? (body.trim() === '' ? undefined : body)

  // Why: an error envelope is an error whatever the status line said (a stream that opened 200, then failed).
  const err = readError(body)
  if (err.envelope && !hasCandidates(body)) {
    const code = err.code !== undefined && err.code >= 400 && err.code <= 599 ? err.code : 500
    const inner = judgeErrorStatus(code, err, facts, p)
    return { ...inner, reason: `${inner.reason} (error body under HTTP ${facts.status})` }
  }

  // Why: only generation has an "answer" that can be empty; a 2xx on any other operation is the answer.
  if (!isGenerate(facts.operation)) return OK('ok')

  // Why: a 200 that is not JSON (a proxy's HTML page) is no answer; another key (another proxy) may do better.
  if (typeof body === 'string') return verdict('upstream-error', true, NONE, `HTTP ${facts.status} answer is not JSON`)

  // Why: an empty answer is a known Gemini hiccup that another attempt usually fixes; it says nothing about the key.
  // Why: an opening event without a finish (Gemini 3 often opens with an empty text part) says nothing yet.
  if (!facts.partial && isEmptyAnswer(body)) {
    const reason =
      body === undefined ? 'empty answer (no body / stream ended without an event)' : 'empty answer (no content, no block, no finish reason but STOP)'
    return verdict('empty-answer', true, NONE, reason)
  }
  return OK(describeAnswer(body))
}

function judgeErrorStatus(status: number, err: UpstreamError, facts: AttemptFacts, p: JudgePolicy): Verdict {
  const msg = err.message
  const what = `HTTP ${status}${err.rpcStatus ? ` ${err.rpcStatus}` : ''}${msg ? `: ${clip(msg)}` : ''}`

  // Why: depleted prepay credits do not clear at midnight — only a human topping up does; re-check will notice.
  // (A 429 that says so in words is still a 429: words are no structured detail.)
  if (status === 402 && err.envelope) {
    return verdict('invalid-key', true, disable('billing'), `billing: prepayment credits depleted (${what})`)
  }

  // Why: 429 is a quota/rate limit: cool the key down for that model, never count it toward disabling.
  if (status === 429) return judgeRateLimit(err, facts, p)

  if (status === 400 || status === 401 || status === 403) {
    // Why: Google names a dead key in ErrorInfo, which no client can write; disable it, try another key.
    const bad = keyProblem(err)
    if (bad) return verdict('invalid-key', true, disable(bad), `key unusable (${bad}): ${what}`)

    if (status === 401 || status === 403) {
      // Why: a 401/403 that is not Google's error envelope comes from a proxy/WAF in between, not a verdict on the key.
      if (!err.envelope) return verdict('upstream-error', true, NONE, `${what} without a Gemini error body (proxy or firewall?)`)
      // Why: the gateway's own fixed request was refused: nothing of a client's in it, so it is the key (or a passing
      // auth hiccup); strike it and let MAX_FAILURES decide.
      if (facts.fixedRequest) return verdict('ambiguous', true, strike(`HTTP ${status}${err.rpcStatus ? ` ${err.rpcStatus}` : ''}`), what)
      // Why: without ErrorInfo only the message tells a leaked key from a file of another project, and a message can
      // echo what the client sent: ask the key itself with a fixed request before anything happens to it.
      return verdict('ambiguous', false, confirm('key'), what)
    }
    // Why: any other 400 is the request's own fault (bad field, location, size); every key would answer the same.
    return verdict('client-error', false, NONE, what)
  }

  if (status === 402) {
    // Why: 402 without Google's envelope is a relay/proxy billing page, not this key's billing state.
    return verdict('upstream-error', true, NONE, `${what} without a Gemini error body (proxy?)`)
  }

  if (status === 404) {
    // Why: a 404 that is not Google's envelope is a wrong base URL/proxy path, not knowledge about the model.
    if (!err.envelope) return verdict('upstream-error', true, NONE, `${what} without a Gemini error body (wrong base URL or proxy?)`)
    // Why: nothing to cool down without a model (files, model list): it is a missing resource of the request.
    if (!facts.model || facts.operation === 'listModels') return verdict('client-error', false, NONE, what)
    // Why: a model no key has served is most likely a typo; retrying would just burn more keys on the same answer.
    if (!facts.fixedRequest && !facts.modelServed) return verdict('client-error', false, NONE, `unknown model: ${what}`)
    // Why: a model that works elsewhere but not with this key (retired for new projects, not enabled) may also be a
    // missing resource the request named; only a fixed request on the model tells which.
    if (!facts.fixedRequest) return verdict('ambiguous', false, confirm('model'), what)
    // Why: the key refused even the fixed request on this model: park the pair, try another key.
    const until = facts.now + p.modelUnavailableCooldownMs
    const effect = cooldown(facts.model, until, 'model-unavailable')
    return verdict('model-unavailable', true, effect, `model ${facts.model} unavailable to this key: ${what}`, until - facts.now)
  }

  // Why: upstream-side timeouts/cancels (408 REQUEST_TIMEOUT, 499 CANCELLED) are Google's hiccups, not the request's.
  if (status === 408 || status === 499) return verdict('upstream-error', true, NONE, what)

  // Why: other 4xx (413 too large, 409, ...) describe the request; another key would get the same answer.
  if (status >= 400 && status < 500) return verdict('client-error', false, NONE, what)

  // Why: outages and "model is overloaded" hit every key alike; disabling keys for them empties the pool for nothing.
  if (status >= 500) return verdict('upstream-error', true, NONE, what)

  // Why: 1xx/3xx never come from Gemini itself — a proxy in the way; another key (maybe another proxy) may pass.
  return verdict('upstream-error', true, NONE, `unexpected HTTP ${status}`)
}

// ---------------------------------------------------------------------------------------------------------------
// 429: rate limits and quotas

interface CooldownCandidate {
  class: 'rate-limited' | 'quota-exhausted' | 'model-unavailable'
  model: string
  until: number
  reason: string
}

function judgeRateLimit(err: UpstreamError, facts: AttemptFacts, p: JudgePolicy): Verdict {
  const { now } = facts
  // Why: Retry-After is the HTTP standard, RetryInfo is Google's structured field, the message is the last resort.
  // (Never the message's "Please retry in Ns": message text is no structured detail.)
  const named = parseRetryAfterHeader(facts.retryAfterHeader, now) ?? err.retryDelayMs
  // Why: a 0 s delay would send the key straight back into a 429; a huge one must not park it for days.
  const shortMs = clamp(Math.ceil(named ?? p.defaultRateLimitCooldownMs), MIN_COOLDOWN_MS, p.maxCooldownMs)

  const candidates: CooldownCandidate[] = err.violations.map((v): CooldownCandidate => {
    const model = v.model ?? facts.model
    const label = v.quotaId ? `${describeQuota(v.quotaId)} (${v.quotaId})` : 'quota'
    if (v.limit === 0) {
      // Why: "limit: 0" means this key has no quota at all for the model (no free tier / region): it will not
      // clear in a minute, nor at midnight; re-probe on the model-unavailable schedule instead of every minute.
      const until = now + p.modelUnavailableCooldownMs
      const reason = `no quota for ${model || 'this model'} on this key: ${label} limit 0, retry in ${formatDuration(until - now)}`
      return { class: 'model-unavailable', model, until, reason }
    }
    if (PER_DAY_RE.test(v.quotaId)) {
      // Why: per-day quotas reset at midnight Pacific; the body's retryDelay for them is not the time to reset.
      const until = nextPacificMidnight(now)
      const reason = `${label}, resets at midnight Pacific, in ${formatDuration(until - now)}`
      return { class: 'quota-exhausted', model, until, reason }
    }
    // Why: per-minute (requests or tokens) and anything unrecognised recover quickly: cool down for the named delay.
    return { class: 'rate-limited', model, until: now + shortMs, reason: `${label}, retry in ${formatDuration(shortMs)}` }
  })

  // Why: a bare 429 (no details, legacy or proxy) is still a rate limit; treat it as per-minute with the named/default delay.
  if (candidates.length === 0) {
    const label = !err.envelope
      ? 'rate limited (429 without a Gemini error body)'
      : err.reasons.includes('RATE_LIMIT_EXCEEDED')
        ? 'rate limit exceeded (RATE_LIMIT_EXCEEDED)'
        : 'rate limited (no quota details)'
    const reason = `${label}, retry in ${formatDuration(shortMs)}`
    candidates.push({ class: 'rate-limited', model: facts.model, until: now + shortMs, reason })
  }

  // Why: with several violations the key is usable only when all have cleared — the longest wins.
  let worst = candidates[0]!
  for (const c of candidates) if (c.until > worst.until) worst = c

  return verdict(worst.class, true, cooldown(worst.model, worst.until, worst.class), worst.reason, worst.until - now)
}

function describeQuota(quotaId: string): string {
  const period = PER_DAY_RE.test(quotaId) ? 'per-day' : /per[-_ ]?minute/i.test(quotaId) ? 'per-minute' : /per[-_ ]?hour/i.test(quotaId) ? 'per-hour' : ''
  const unit = /input[-_ ]?token/i.test(quotaId)
    ? 'input-token'
    : /output[-_ ]?token/i.test(quotaId)
      ? 'output-token'
      : /token/i.test(quotaId)
        ? 'token'
        : /request/i.test(quotaId)
          ? 'request'
          : ''
  return [period, unit, 'quota'].filter(Boolean).join(' ')
}

// ---------------------------------------------------------------------------------------------------------------
// Key problems on 400/401/403

/** ErrorInfo reasons that mean "this key cannot work here until someone changes something". */
const DISABLING_REASONS: Record<string, string> = {
  API_KEY_INVALID: 'invalid', // wrong, deleted or expired key ("API key expired. Please renew the API key.")
  CONSUMER_INVALID: 'invalid', // the key's project is gone
  CONSUMER_SUSPENDED: 'suspended', // Google suspended the project/key
  SERVICE_DISABLED: 'service-disabled', // Generative Language API not enabled on the key's project
  API_KEY_SERVICE_BLOCKED: 'service-blocked', // key restricted to other APIs
  API_KEY_IP_ADDRESS_BLOCKED: 'restricted', // key restricted to other IPs: never works from this gateway
  API_KEY_HTTP_REFERRER_BLOCKED: 'restricted', // key restricted to browser referrers
  API_KEY_ANDROID_APP_BLOCKED: 'restricted', // key restricted to an Android app
  API_KEY_IOS_APP_BLOCKED: 'restricted', // key restricted to an iOS app
  BILLING_DISABLED: 'billing', // paid-only method on a project without billing
}

function keyProblem(err: UpstreamError): string | undefined {
  for (const r of err.reasons) {
    const hit = Object.hasOwn(DISABLING_REASONS, r) ? DISABLING_REASONS[r] : undefined
    if (hit) return hit
  }
  return undefined
}

const PER_DAY_RE = /per[-_ ]?day/i

function isGenerate(op: Operation): boolean {
  return op === 'generateContent' || op === 'streamGenerateContent'
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const NONE: KeyEffect = Object.freeze({ kind: 'none' })
const SUCCESS: KeyEffect = Object.freeze({ kind: 'success' })

function OK(reason: string): Verdict {
  return verdict('ok', false, SUCCESS, reason)
}

function verdict(cls: FailureClass, retry: boolean, effect: KeyEffect, reason: string, retryAfterMs?: number): Verdict {
  return retryAfterMs === undefined ? { class: cls, retry, effect, reason } : { class: cls, retry, effect, retryAfterMs, reason }
}

function cooldown(model: string, until: number, reason: 'rate-limited' | 'quota-exhausted' | 'model-unavailable'): KeyEffect {
  return { kind: 'cooldown', model, until, reason }
}

function disable(reason: string): KeyEffect {
  return { kind: 'disable', reason }
}

function strike(reason: string): KeyEffect {
  return { kind: 'strike', reason }
}

function confirm(probe: 'key' | 'model'): KeyEffect {
  return { kind: 'confirm', probe }
}

function resolvePolicy(policy: Partial<JudgePolicy> | undefined): JudgePolicy {
  if (!policy) return DEFAULT_JUDGE_POLICY
  // Undefined entries (e.g. from an optional config field) fall back to the default instead of erasing it.
  return {
    defaultRateLimitCooldownMs: policy.defaultRateLimitCooldownMs ?? DEFAULT_JUDGE_POLICY.defaultRateLimitCooldownMs,
    maxCooldownMs: policy.maxCooldownMs ?? DEFAULT_JUDGE_POLICY.maxCooldownMs,
    modelUnavailableCooldownMs: policy.modelUnavailableCooldownMs ?? DEFAULT_JUDGE_POLICY.modelUnavailableCooldownMs,
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max)
}

function clip(text: string, max = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim()
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine
}
