import { randomBytes } from 'node:crypto'
import type { Json } from '../../internal/json.ts'
import { tokenCounts } from '../shared/usage.ts'
import type { ResponsesOptions } from './decode.ts'
import { finishOf, OutputBuilder, type Finish, type IdMaker } from './output.ts'

/** `resp_` + Gemini's responseId when there is one (so a response can be found in Google's logs), else random. */
export function responseId(geminiId: string | undefined): string {
  return geminiId && /^[A-Za-z0-9_-]+$/.test(geminiId) ? `resp_${geminiId}` : `resp_${randomBytes(16).toString('hex')}`
}

/** Gemini usageMetadata → Responses usage; output tokens include the thinking tokens, as OpenAI counts reasoning. */
export function usageOf(usageMetadata: unknown): Json | null {
  const usage = tokenCounts(usageMetadata)
  if (!usage) return null
  return {
    input_tokens: usage.prompt,
    input_tokens_details: { cached_tokens: usage.cached },
    output_tokens: usage.completion + usage.thoughts,
    output_tokens_details: { reasoning_tokens: usage.thoughts },
    total_tokens: usage.total,
  }
}

export interface ResponseFields {
  id: string
  status: 'in_progress' | Finish['status']
  output: Json[]
  usage: Json | null
  incompleteReason?: Finish['incompleteReason']
  error?: { code: string; message: string } | null
}

/** A whole Response object, repeating the request's settings the way OpenAI does. */
export function responseObject(options: ResponsesOptions, fields: ResponseFields): Json {
  return {
    id: fields.id,
    object: 'response',
    created_at: options.createdAt,
    status: fields.status,
    ...(fields.status === 'completed' ? { completed_at: Math.floor(Date.now() / 1000) } : {}),
    background: false,
    error: fields.error ?? null,
    incomplete_details: fields.incompleteReason ? { reason: fields.incompleteReason } : null,
    ...options.echo,
    model: options.model,
    output: fields.output,
    previous_response_id: null,
    store: false,
    truncation: 'disabled',
    usage: fields.usage,
  }
}

export interface EncodedAnswer {
  response: Json
  finish: Finish
}

/** A whole Gemini generateContent answer → a Response object (status completed, incomplete or failed). */
export function encodeAnswer(answer: Json, options: ResponsesOptions, newId?: IdMaker): EncodedAnswer {
  const builder = new OutputBuilder(undefined, newId)
  builder.add(answer)
  const finish = finishOf(builder.finishReason, builder.blockReason, builder.finishMessage)
  builder.close(finish.status === 'completed' ? 'completed' : 'incomplete')
  const response = responseObject(options, {
    id: responseId(builder.responseId),
    status: finish.status,
    output: builder.output,
    usage: usageOf(builder.usageMetadata),
    incompleteReason: finish.incompleteReason,
    error: finish.status === 'failed' ? { code: 'server_error', message: finish.message ?? 'Gemini failed to answer.' } : null,
  })
  return { response, finish }
}
