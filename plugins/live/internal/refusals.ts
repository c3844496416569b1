import type { PluginAttemptFacts, Verdict } from 'gemgate'
import { closeReason } from './protocol.ts'
import type { Refusal } from './upstream.ts'

/** A close frame for the client. */
export interface Close {
  code: number
  reason: string
}

const RETRY_LATER = 1013
const POLICY = 1008
const INTERNAL = 1011

/**
 * What the judge is told about an attempt that did not reach `setupComplete`. A refused upgrade is an HTTP answer
 * like any other. A close frame has 123 bytes for words and no room for Google's structured details: 1007 and 1008
 * before `setupComplete` are Google refusing the setup, for the key's sake (not valid, leaked, location) or the
 * setup's own (invalid argument, unknown voice), and only the words tell which. That is the judge's case of a 403
 * carrying Google's message without ErrorInfo: settled by a fixed request on the key, never by reading the words.
 * Other closes (1011 internal, 1013 try later, ...) say Google could not serve the session now: another key may.
 */
export function attemptFacts(refusal: Refusal, base: Pick<PluginAttemptFacts, 'operation' | 'model'>): PluginAttemptFacts {
  switch (refusal.kind) {
    case 'cancelled':
      return { ...base, cancelled: true }
    case 'transport':
      return { ...base, transportError: refusal.code }
    case 'http':
      return { ...base, status: refusal.status, body: parsed(refusal.body), retryAfterHeader: refusal.retryAfter }
    case 'close':
      if (refusal.code === 1007 || refusal.code === 1008) {
        return { ...base, status: 403, body: { error: { code: 403, status: 'PERMISSION_DENIED', message: refusal.reason } } }
      }
      return { ...base, status: refusal.code === 1011 ? 500 : 503 }
  }
}

/**
 * How the client's session ends when the last attempt failed: Google's own close where it refused the setup itself,
 * and never Google's words about the gateway's keys (they can name a key's Cloud project).
 */
export function clientClose(refusal: Refusal, verdict: Verdict): Close {
  if (verdict.class === 'invalid-key' || verdict.class === 'ambiguous') {
    return { code: INTERNAL, reason: "The gateway's API keys were refused by Google and none is left to try; see the gateway's error log." }
  }
  switch (refusal.kind) {
    case 'close':
      return { code: refusal.code, reason: refusal.reason }
    case 'http': {
      const code = refusal.status === 429 ? RETRY_LATER : refusal.status >= 400 && refusal.status < 500 ? POLICY : INTERNAL
      return { code, reason: closeReason(googleMessage(refusal.body) ?? `Gemini refused the session: HTTP ${refusal.status}`) }
    }
    case 'transport':
      return {
        code: INTERNAL,
        reason: closeReason(refusal.code === 'TimeoutError' ? 'Gemini did not answer the setup in time.' : `Could not reach Gemini (${refusal.code}).`),
      }
    case 'cancelled':
      return { code: 1001, reason: 'The client left.' }
  }
}

/** The session could not start because no key may serve the model now (all cooling down, disabled, or none set). */
export function noKeyClose(message: string): Close {
  return { code: RETRY_LATER, reason: closeReason(message) }
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return body
  }
}

/** `error.message` of a Google error envelope (or the first of an array of them). */
function googleMessage(body: string): string | undefined {
  const data = parsed(body)
  const envelope = Array.isArray(data) ? data[0] : data
  const message = (envelope as { error?: { message?: unknown } } | null)?.error?.message
  return typeof message === 'string' && message ? message : undefined
}
