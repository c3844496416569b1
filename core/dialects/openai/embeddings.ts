import { GatewayError } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'
import { modelId } from '../shared/models.ts'
import { describe, invalid, missing, optNumber, optString } from './validate.ts'

/** Gemini takes at most 100 requests per batchEmbedContents call; longer inputs are split into several calls. */
export const EMBED_BATCH = 100

/** Inputs one OpenAI embeddings request may carry (OpenAI's own limit); each 100 of them is one upstream call. */
export const MAX_EMBEDDING_INPUTS = 2048

export interface EmbeddingsOptions {
  kind: 'embeddings'
  /** The model string as the client sent it. */
  model: string
  encoding: 'float' | 'base64'
}

export interface DecodedEmbeddings {
  model: string
  inputs: string[]
  dimensions?: number
  /** Gemini taskType (RETRIEVAL_QUERY, ...), from `task_type` or `extra_body.google.task_type`. */
  taskType?: string
  options: EmbeddingsOptions
}

/** An OpenAI embeddings request, checked: input is a string or a list of strings (token arrays are refused). */
export function decodeEmbeddingsRequest(body: Json): DecodedEmbeddings {
  const rawModel = optString(body, 'model')
  if (!rawModel) throw missing('model')
  const model = modelId(rawModel)
  if (!model) throw invalid('model', `"${rawModel.slice(0, 64)}" is not a valid model id.`)
  const input = body.input
  if (input === undefined || input === null) throw missing('input')
  let inputs: string[]
  if (typeof input === 'string') inputs = [input]
  else if (Array.isArray(input) && input.every((item) => typeof item === 'string')) inputs = input
  else if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'number' || Array.isArray(item))) {
    // Token ids are tokens of OpenAI's tokenizers; Gemini has no way to take them, and guessing text would lie.
    throw invalid('input', 'token arrays are not supported: Gemini embeds text. Send the input as a string or a list of strings.')
  } else throw invalid('input', `expected a string or an array of strings, got ${describe(input)}.`)
  if (inputs.length === 0) throw invalid('input', 'expected at least one input.')
  if (inputs.length > MAX_EMBEDDING_INPUTS) throw invalid('input', `${inputs.length} inputs given; at most ${MAX_EMBEDDING_INPUTS} are allowed per request.`)
  const empty = inputs.findIndex((text) => text === '')
  if (empty >= 0) throw invalid(inputs.length === 1 ? 'input' : `input[${empty}]`, 'inputs must not be empty strings.')

  const format = optString(body, 'encoding_format') ?? 'float'
  if (format !== 'float' && format !== 'base64') throw invalid('encoding_format', `expected "float" or "base64", got "${format.slice(0, 32)}".`)
  const decoded: DecodedEmbeddings = { model, inputs, options: { kind: 'embeddings', model: rawModel, encoding: format } }
  const dimensions = optNumber(body, 'dimensions', { min: 1, integer: true })
  if (dimensions !== undefined) decoded.dimensions = dimensions
  const google = isObject(body.extra_body) && isObject(body.extra_body.google) ? body.extra_body.google : {}
  const taskType = optString(body, 'task_type') ?? optString(google, 'task_type', 'extra_body.google.task_type')
  if (taskType) decoded.taskType = taskType.toUpperCase()
  return decoded
}

/** One Gemini batchEmbedContents body for a slice of the inputs. */
export function batchEmbedBody(model: string, inputs: string[], dimensions: number | undefined, taskType?: string): Json {
  return {
    requests: inputs.map((text) => {
      const request: Json = { model: `models/${model}`, content: { parts: [{ text }] } }
      if (taskType) request.taskType = taskType
      if (dimensions !== undefined) request.outputDimensionality = dimensions
      return request
    }),
  }
}

/** The `values` of each embedding of a batchEmbedContents answer; a 502 if Google's answer is not that shape. */
export function embeddingValues(answer: unknown, expected: number): number[][] {
  const embeddings = isObject(answer) ? answer.embeddings : undefined
  if (!Array.isArray(embeddings) || embeddings.length !== expected || !embeddings.every((e) => isObject(e) && Array.isArray(e.values))) {
    throw new GatewayError(502, `Gemini answered batchEmbedContents without ${expected} embeddings.`)
  }
  return embeddings.map((e) => e.values as number[])
}

/**
 * The OpenAI answer. Gemini's batchEmbedContents reports no token usage, so prompt_tokens is an estimate
 * (about 4 characters per token for ASCII text, one token per other character), never a count from Google.
 */
export function toEmbeddingsResponse(vectors: number[][], inputs: string[], options: EmbeddingsOptions): Json {
  const tokens = inputs.reduce((sum, text) => sum + estimateTokens(text), 0)
  return {
    object: 'list',
    data: vectors.map((values, index) => ({ object: 'embedding', index, embedding: options.encoding === 'base64' ? float32Base64(values) : values })),
    model: options.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  }
}

/** Little-endian float32 bytes in base64, as OpenAI's encoding_format "base64" delivers them. */
export function float32Base64(values: number[]): string {
  const bytes = Buffer.allocUnsafe(values.length * 4)
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i]!, i * 4)
  return bytes.toString('base64')
}

export function estimateTokens(text: string): number {
  let ascii = 0
  let other = 0
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) < 128) ascii++
    else other++
  }
  return Math.ceil(ascii / 4) + other
}
