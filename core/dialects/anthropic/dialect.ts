import { FastResponse } from 'srvx'
import type { RequestContext } from '../../context.ts'
import { GatewayError, errorFromUpstream } from '../../errors.ts'
import { SSE_HEADERS, responseBody } from '../../sse.ts'
import type { Dialect } from '../types.ts'
import { anthropicErrorResponse } from './errors.ts'
import { encodeAnswer, type AnswerOptions } from './response.ts'
import { encodeStream } from './stream.ts'

const JSON_TYPE = 'application/json'

/** Encodes pipeline outcomes as Anthropic Messages answers, streams, token counts and errors. */
export const anthropicDialect: Dialect = {
  name: 'anthropic',
  respond(outcome, ctx) {
    const requestId = { 'request-id': `req_${ctx.id.replace(/-/g, '')}` }
    if (outcome.kind === 'stream') {
      return new FastResponse(responseBody(encodeStream(outcome.chunks, answerOptions(ctx))), {
        status: 200,
        headers: { ...SSE_HEADERS, ...requestId },
      })
    }
    if (outcome.status >= 400) return anthropicErrorResponse(errorFromUpstream(outcome.status, outcome.body.text))
    const answer = outcome.body.tryData()
    if (typeof answer !== 'object' || answer === null)
      return anthropicErrorResponse(new GatewayError(502, 'Gemini answered with a body that is not a JSON object.'))
    const body = ctx.request.operation === 'countTokens' ? { input_tokens: answer.totalTokens ?? 0 } : encodeAnswer(answer, answerOptions(ctx))
    return new FastResponse(JSON.stringify(body), { status: 200, headers: { 'content-type': JSON_TYPE, ...requestId } })
  },
  error(error) {
    return anthropicErrorResponse(error)
  },
}

function answerOptions(ctx: RequestContext): AnswerOptions {
  const options = ctx.request.dialectOptions ?? {}
  return { model: typeof options.model === 'string' ? options.model : ctx.request.model, thinking: options.thinking === true }
}
