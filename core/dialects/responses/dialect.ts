import { FastResponse } from 'srvx'
import type { JsonOutcome } from '../../context.ts'
import { GatewayError, errorFromUpstream } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'
import { SSE_HEADERS, responseBody } from '../../sse.ts'
import { openaiErrorResponse } from '../openai/errors.ts'
import type { Dialect } from '../types.ts'
import type { ResponsesOptions } from './decode.ts'
import { encodeAnswer } from './response.ts'
import { encodeStream } from './stream.ts'

const json = (value: unknown, headers: Record<string, string>) =>
  new FastResponse(JSON.stringify(value), { status: 200, headers: { 'content-type': 'application/json', ...headers } })

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
    if (answer instanceof GatewayError) return openaiErrorResponse(answer)
    if (options.kind === 'input_tokens') {
      return json({ object: 'response.input_tokens', input_tokens: Number(answer.totalTokens ?? 0) }, headers)
    }
    const { response, finish } = encodeAnswer(answer, options)
    if (finish.status === 'failed') return openaiErrorResponse(new GatewayError(502, finish.message ?? 'Gemini failed to answer.'))
    return json(response, headers)
  },
  error(error) {
    return openaiErrorResponse(error)
  },
}

/** The answer's JSON, or the error to send instead (respond must not throw: the runner has already let go). */
function answerOf(outcome: JsonOutcome): Json | GatewayError {
  if (outcome.status >= 400) return errorFromUpstream(outcome.status, outcome.body.text)
  const data = outcome.body.tryData()
  if (!isObject(data)) return new GatewayError(502, 'Gemini answered with a body that is not a JSON object.')
  return data
}
