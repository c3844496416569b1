import { GatewayError, errorFromUpstream } from '../../errors.ts'
import { isObject } from '../../internal/json.ts'
import { FastResponse } from 'srvx'
import { SSE_HEADERS, responseBody } from '../../sse.ts'
import type { Dialect } from '../types.ts'
import type { EmbeddingsOptions } from './embeddings.ts'
import { openaiErrorResponse } from './errors.ts'
import type { ChatOptions } from './request.ts'
import { encodeAnswer } from './response.ts'
import { encodeStream } from './stream.ts'

/** What the routes put in GatewayRequest.dialectOptions; model lists carry none (they are converted in `after`). */
export type OpenAIDialectOptions = ChatOptions | EmbeddingsOptions

const JSON_HEADERS = { 'content-type': 'application/json' }

/**
 * The converted OpenAI API: chat answers and streams are encoded from Gemini's, errors take OpenAI's shape.
 * Model lists and embeddings are already in OpenAI's shape when they get here (converted by their routes).
 */
export const openaiDialect: Dialect = {
  name: 'openai',
  respond(outcome, ctx) {
    const options = ctx.request.dialectOptions as OpenAIDialectOptions | undefined
    if (outcome.kind === 'stream') {
      const chat = options?.kind === 'chat' ? options : { kind: 'chat' as const, model: ctx.request.model, n: 1, includeUsage: false }
      return new FastResponse(responseBody(encodeStream(outcome.chunks, chat)), { status: 200, headers: SSE_HEADERS })
    }
    if (outcome.status < 200 || outcome.status > 299) return openaiErrorResponse(errorFromUpstream(outcome.status, outcome.body.text))
    if (options?.kind === 'chat') {
      const answer = outcome.body.tryData()
      if (!isObject(answer)) return openaiErrorResponse(new GatewayError(502, 'Gemini sent an answer that is not JSON.'))
      return new FastResponse(JSON.stringify(encodeAnswer(answer, options)), { status: 200, headers: { ...JSON_HEADERS, ...outcome.headers } })
    }
    return new FastResponse(outcome.body.text, { status: outcome.status, headers: { ...JSON_HEADERS, ...outcome.headers } })
  },
  error(error) {
    return openaiErrorResponse(error)
  },
}
