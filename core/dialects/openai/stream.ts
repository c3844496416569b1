import { GatewayError, toGatewayError } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'
import type { Payload } from '../../payload.ts'
import { SSE_KEEP_ALIVE } from '../shared/keep-alive.ts'
import { openaiErrorObject } from './errors.ts'
import type { ChatOptions } from './request.ts'
import { EMPTY_USAGE, chatLogprobs, chatUsage, completionId, finishReason, nowSeconds, readParts } from './response.ts'

interface ChoiceState {
  started: boolean
  finished: boolean
  /** Tool calls handed out so far: the next one's `index`. */
  tools: number
}

const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`

/**
 * Gemini stream chunks → OpenAI chat.completion.chunk events, one encoder per stream. Each chunk is converted as
 * it arrives (nothing is held back): the first delta of a choice carries the role, text goes to `content`, thoughts
 * to `reasoning_content`, each functionCall becomes one complete tool call delta with its own index. When Gemini
 * sends a finishReason the choice gets a closing chunk with the real finish_reason; after the upstream ends come the
 * usage chunk (if asked for) and `[DONE]`. A failure ends the stream with an error event and no `[DONE]`.
 */
export class ChatStreamEncoder {
  readonly #options: ChatOptions
  readonly #created = nowSeconds()
  #id: string | undefined
  #usage: unknown
  readonly #choices = new Map<number, ChoiceState>()

  constructor(options: ChatOptions) {
    this.#options = options
  }

  /** Events for one Gemini chunk ('' when it carries nothing a client would see). */
  chunk(data: Json): string {
    this.#id ??= completionId(data.responseId)
    if (data.usageMetadata) this.#usage = data.usageMetadata
    const candidates: unknown[] = Array.isArray(data.candidates) ? data.candidates : []
    if (candidates.length === 0) return isObject(data.promptFeedback) && data.promptFeedback.blockReason ? this.#blocked() : ''

    const deltas: Json[] = []
    const finishes: Json[] = []
    candidates.forEach((raw, position) => {
      const candidate = isObject(raw) ? raw : {}
      const index = typeof candidate.index === 'number' ? candidate.index : position
      const state = this.#state(index)
      if (state.finished) return
      const view = readParts(candidate.content?.parts)
      const delta: Json = {}
      if (!state.started) {
        state.started = true
        delta.role = 'assistant'
      }
      if (view.content !== '') delta.content = view.content
      if (view.reasoning !== '') delta.reasoning_content = view.reasoning
      if (view.toolCalls.length > 0) delta.tool_calls = view.toolCalls.map((call) => ({ index: state.tools++, ...call }))
      if (view.signature) delta.extra_content = { google: { thought_signature: view.signature } }
      if (delta.role && delta.content === undefined && delta.tool_calls === undefined) delta.content = ''
      const logprobs = chatLogprobs(candidate.logprobsResult)
      if (Object.keys(delta).length > 0 || logprobs) deltas.push({ index, delta, logprobs, finish_reason: null })
      if (candidate.finishReason) {
        state.finished = true
        finishes.push({ index, delta: {}, logprobs: null, finish_reason: finishReason(candidate.finishReason, state.tools > 0) })
      }
    })
    let out = ''
    if (deltas.length > 0) out += this.#event(deltas)
    if (finishes.length > 0) out += this.#event(finishes)
    return out
  }

  /** The end of a complete upstream stream: close what Gemini left open, then usage and [DONE]. */
  end(): string {
    this.#id ??= completionId(undefined)
    const open = [...this.#choices].filter(([, state]) => !state.finished)
    let out = ''
    if (open.length > 0 || this.#choices.size === 0) {
      const indexes = this.#choices.size === 0 ? [0] : open.map(([index]) => index)
      out += this.#event(indexes.map((index) => {
        const state = this.#state(index)
        state.finished = true
        const delta = state.started ? {} : { role: 'assistant', content: '' }
        return { index, delta, logprobs: null, finish_reason: state.tools > 0 ? 'tool_calls' : 'stop' }
      }))
    }
    if (this.#options.includeUsage) {
      out += event({ id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#options.model, choices: [], usage: chatUsage(this.#usage) ?? EMPTY_USAGE })
    }
    return out + 'data: [DONE]\n\n'
  }

  /** The event that ends a broken stream: OpenAI's error shape, which the SDKs raise; no [DONE] after it. */
  error(error: GatewayError): string {
    return event(openaiErrorObject(error))
  }

  #blocked(): string {
    const choices: Json[] = []
    for (let index = 0; index < this.#options.n; index++) {
      const state = this.#state(index)
      if (state.finished) continue
      state.finished = true
      const delta: Json = state.started ? {} : { role: 'assistant', content: '' }
      state.started = true
      choices.push({ index, delta, logprobs: null, finish_reason: 'content_filter' })
    }
    return choices.length > 0 ? this.#event(choices) : ''
  }

  #state(index: number): ChoiceState {
    let state = this.#choices.get(index)
    if (!state) this.#choices.set(index, (state = { started: false, finished: false, tools: 0 }))
    return state
  }

  #event(choices: Json[]): string {
    const chunk: Json = { id: this.#id, object: 'chat.completion.chunk', created: this.#created, model: this.#options.model, choices }
    if (this.#options.includeUsage) chunk.usage = null
    return event(chunk)
  }
}

/**
 * The SSE text of a whole stream: each Gemini chunk converted as it arrives; a failure becomes the error event. A
 * keep-alive is an SSE comment and leaves the encoder alone (no role delta, no id taken from it).
 */
export async function* encodeStream(chunks: AsyncIterable<Payload>, options: ChatOptions): AsyncGenerator<string> {
  const encoder = new ChatStreamEncoder(options)
  try {
    for await (const chunk of chunks) {
      if (chunk.keepAlive) {
        yield SSE_KEEP_ALIVE
        continue
      }
      const data = chunk.tryData()
      if (!isObject(data)) throw new GatewayError(502, 'Gemini sent a stream event that is not JSON; the answer is incomplete.')
      const events = encoder.chunk(data)
      if (events) yield events
    }
  } catch (error) {
    yield encoder.error(toGatewayError(error))
    return
  }
  yield encoder.end()
}
