import type { RequestContext } from '../../context.ts'
import { GatewayError, errorFromUpstream } from '../../errors.ts'
import { transportCode } from '../../keys/facts.ts'
import { judgeAttempt, type Verdict } from '../../keys/judge.ts'
import type { Unavailable } from '../../keys/pool.ts'
import { UpstreamHttpError } from '../../upstream/gemini.ts'

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'TimeoutError'])

/** What the client hears when the last attempt failed: Google's own status and body where there is one. */
export function toClientError(error: unknown, verdict: Verdict, pool: Unavailable): GatewayError {
  if (verdict.class === 'client-cancelled') return new GatewayError(499, 'The client closed the request.')
  // Google rejected the gateway's key, not the client's request: a 400/401/403 would blame the client.
  if (verdict.class === 'invalid-key' || verdict.class === 'ambiguous') {
    // Google's words stay in the error log: they can name the key's Cloud project.
    return new GatewayError(
      503,
      "The gateway's API keys were refused by Google for this request and none is left to try; the operator has been told in the error log.",
    )
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
