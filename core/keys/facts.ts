import { parseJsonOrText } from '../internal/json.ts'
import { UpstreamHttpError } from '../upstream/gemini.ts'
import type { AttemptFacts } from './judge.ts'

const NETWORK_CODES = /^(UND_ERR|E[A-Z]+$)/

/**
 * Facts for the judge from a failed upstream call, or undefined when the error is a bug of ours rather than
 * Google's answer or the network's. `cancelled`: the client went away, which wins over anything else.
 */
export function factsFromError(error: unknown, base: Pick<AttemptFacts, 'operation' | 'model' | 'now'>, cancelled: boolean): AttemptFacts | undefined {
  if (cancelled) return { ...base, cancelled: true }
  if (error instanceof UpstreamHttpError) {
    return { ...base, status: error.status, body: parseJsonOrText(error.body), retryAfterHeader: error.retryAfter }
  }
  const code = transportCode(error)
  return code ? { ...base, transportError: code } : undefined
}

/** The network-level code of an error (undici's UND_ERR_*, errno codes, timeouts), or undefined for anything else. */
export function transportCode(error: unknown): string | undefined {
  const err = error as { code?: unknown; name?: unknown; cause?: unknown }
  if (typeof err?.code === 'string' && NETWORK_CODES.test(err.code)) return err.code
  if (err?.name === 'TimeoutError' || err?.name === 'SocketError') return String(err.name)
  return err?.cause ? transportCode(err.cause) : undefined
}
