import type { RequestContext } from '../../context.ts'
import { GatewayError, errorFromUpstream } from '../../errors.ts'
import { parseJsonOrText } from '../../internal/json.ts'
import { judgeAttempt, type AttemptFacts, type Verdict } from '../../keys/judge.ts'
import type { Unavailable } from '../../keys/pool.ts'
import { UpstreamHttpError } from '../../upstream/gemini.ts'

const NETWORK_CODES = /^(UND_ERR|E[A-Z]+$)/
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'TimeoutError'])

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

/** What the client hears when the last attempt failed: Google's own status and body where there is one. */
export function toClientError(error: unknown, verdict: Verdict, pool: Unavailable): GatewayError {
  if (verdict.class === 'client-cancelled') return new GatewayError(499, 'The client closed the request.')
  // Google rejected the gateway's key, not the client's request: a 400/401/403 would blame the client.
  if (verdict.class === 'invalid-key' || verdict.class === 'ambiguous') {
    return new GatewayError(503, `Google rejected the API keys tried for this request (last: ${verdict.reason}); none is left to try.`)
  }
  if (error instanceof UpstreamHttpError) {
    const headers: Record<string, string> = {}
    if (error.status === 429) headers['retry-after'] = String(pool.status === 429 && pool.retryAfterSeconds ? pool.retryAfterSeconds : 1)
    return errorFromUpstream(error.status, error.body, headers)
  }
  if (error instanceof GatewayError) return error
  const code = transportCode(error) ?? 'unknown'
  return TIMEOUT_CODES.has(code)
    ? new GatewayError(504, `Gemini did not answer in time (${code}).`)
    : new GatewayError(502, `Could not reach Gemini (${code}).`)
}

/** A stream that broke after its first event: the verdict for the key and the error that ends the client's stream. */
export function streamFailure(error: unknown, ctx: RequestContext, chunks: number): { verdict: Verdict; error: GatewayError } {
  const facts = { operation: ctx.request.operation, model: ctx.request.upstreamModel, now: Date.now() }
  if (ctx.signal.aborted) {
    return { verdict: judgeAttempt({ ...facts, cancelled: true }), error: new GatewayError(499, 'The client closed the request.') }
  }
  if (error instanceof GatewayError) return { verdict: judgeAttempt({ ...facts, transportError: 'stream-error' }), error }
  const code = transportCode(error) ?? 'stream-error'
  return {
    verdict: judgeAttempt({ ...facts, transportError: code }),
    error: new GatewayError(502, `The Gemini stream broke after ${chunks} chunk(s) (${code}); the answer is incomplete.`),
  }
}
