import { FastResponse } from 'srvx'
import type { JsonOutcome } from '../../context.ts'
import { GatewayError } from '../../errors.ts'
import { responseBody } from '../../sse.ts'
import type { Dialect } from '../types.ts'
import type { ResponsesOptions } from './decode.ts'
import { errorResponse } from './errors.ts'
import { encodeResponse } from './response.ts'
import { encodeStream } from './stream.ts'

const json = (value: unknown, headers: Record<string, string>) =>
  new FastResponse(JSON.stringify(value), { status: 200, headers: { 'content-type': 'application/json', ...headers } })

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

/**
 * The OpenAI Responses API: Response objects, typed SSE events, and errors as `{error:{message,type,code,param}}`.
 * A Gemini answer that ended in failure (MALFORMED_FUNCTION_CALL, OTHER, ...) is a 502 for a non-stream request,
 * not a 200 with nothing in it; content filters and token limits are `incomplete` answers, as on OpenAI.
 */
export const responsesDialect: Dialect = {
  name: 'openai-responses',
  respond(outcome, ctx) {
    const options = ctx.request.dialectOptions as unknown as ResponsesOptions
    const headers = { 'x-request-id': ctx.id }
    if (outcome.kind === 'stream') {
      return new FastResponse(responseBody(encodeStream(outcome.chunks, options)), { status: 200, headers: { ...SSE_HEADERS, ...headers } })
    }
    const answer = answerOf(outcome)
    if (answer instanceof GatewayError) return errorResponse(answer)
    if (options.kind === 'input_tokens') {
      return json({ object: 'response.input_tokens', input_tokens: Number(answer.totalTokens ?? 0) }, headers)
    }
    const { response, finish } = encodeResponse(answer, options)
    if (finish.status === 'failed') return errorResponse(new GatewayError(502, finish.message ?? 'Gemini failed to answer.'))
    return json(response, headers)
  },
  error(error) {
    return errorResponse(error)
  },
}

/** The answer's JSON, or the error to send instead (respond must not throw: the runner has already let go). */
function answerOf(outcome: JsonOutcome): Record<string, any> | GatewayError {
  const data = outcome.body.tryData()
  if (outcome.status >= 400) {
    const message = typeof data?.error?.message === 'string' ? data.error.message : `Gemini answered ${outcome.status}.`
    return new GatewayError(outcome.status, message, { upstreamBody: outcome.body.text })
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return new GatewayError(502, 'Gemini answered with a body that is not a JSON object.')
  return data
}
