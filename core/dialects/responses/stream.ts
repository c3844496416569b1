import { GatewayError, toGatewayError } from '../../errors.ts'
import type { Json } from '../../internal/json.ts'
import type { Payload } from '../../payload.ts'
import { SSE_KEEP_ALIVE } from '../shared/keep-alive.ts'
import { openaiErrorObject, type OpenAIErrorBody } from '../openai/errors.ts'
import type { ResponsesOptions } from './decode.ts'
import { finishOf, OutputBuilder, type IdMaker } from './output.ts'
import { responseId, responseObject, usageOf } from './response.ts'

const TERMINAL = { completed: 'response.completed', incomplete: 'response.incomplete', failed: 'response.failed' } as const

/**
 * Gemini stream chunks → Responses SSE events (`event: <type>` + `data: <json>` with a sequence_number), written as
 * each chunk arrives: one write per upstream chunk, nothing held back. The stream always ends with a terminal event
 * that tells the truth: response.completed, response.incomplete (max_output_tokens / content_filter), or
 * response.failed followed by an `error` event when Gemini failed or the upstream broke after the first byte (the
 * official SDKs raise that `error` event as an APIError, so a broken answer never looks finished). A keep-alive is an
 * SSE comment: no event, no sequence_number used, and before the first chunk no response.created (its id comes from
 * that chunk).
 */
export async function* encodeStream(chunks: AsyncIterable<Payload>, options: ResponsesOptions, newId?: IdMaker): AsyncGenerator<string> {
  let sequence = 0
  let out = ''
  const emit = (type: string, payload: Json) => {
    out += `event: ${type}\ndata: ${JSON.stringify({ type, ...payload, sequence_number: sequence++ })}\n\n`
  }
  const builder = new OutputBuilder(emit, newId)
  let id: string | undefined
  const start = (geminiId: string | undefined): string => {
    id = responseId(geminiId)
    const response = responseObject(options, { id, status: 'in_progress', output: [], usage: null })
    emit('response.created', { response })
    emit('response.in_progress', { response })
    return id
  }

  try {
    for await (const chunk of chunks) {
      if (chunk.keepAlive) {
        yield SSE_KEEP_ALIVE
        continue
      }
      const data = chunk.tryData() as Json | undefined
      if (!data || typeof data !== 'object') throw new GatewayError(502, 'Gemini sent a stream event that is not JSON; the answer is incomplete.')
      if (id === undefined) start(typeof data.responseId === 'string' ? data.responseId : undefined)
      builder.add(data)
      if (out !== '') {
        yield out
        out = ''
      }
    }
  } catch (caught) {
    const error = toGatewayError(caught)
    const response = responseObject(options, {
      id: id ?? start(undefined),
      status: 'failed',
      output: builder.snapshot(),
      usage: usageOf(builder.usageMetadata),
      error: { code: error.status === 429 ? 'rate_limit_exceeded' : 'server_error', message: error.message },
    })
    emit('response.failed', { response })
    emitError(emit, openaiErrorObject(error).error)
    yield out
    return
  }

  const finalId = id ?? start(undefined)
  const finish = finishOf(builder.finishReason, builder.blockReason, builder.finishMessage)
  builder.close(finish.status === 'completed' ? 'completed' : 'incomplete')
  const failure = finish.status === 'failed' ? { code: 'server_error', message: finish.message ?? 'Gemini failed to answer.' } : null
  const response = responseObject(options, {
    id: finalId,
    status: finish.status,
    output: builder.output,
    usage: usageOf(builder.usageMetadata),
    incompleteReason: finish.incompleteReason,
    error: failure,
  })
  emit(TERMINAL[finish.status], { response })
  if (failure) emitError(emit, { message: failure.message, type: 'server_error', code: failure.code, param: null })
  yield out
}

/** The `error` event in both shapes clients read: OpenAI's documented flat fields and its nested `error` object. */
function emitError(emit: (type: string, payload: Json) => void, error: OpenAIErrorBody['error']): void {
  emit('error', { code: error.code, message: error.message, param: error.param, error })
}
