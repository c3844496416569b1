import { GatewayError, toGatewayError } from '../../errors.ts'
import { isObject, type Json } from '../../internal/json.ts'
import { Payload } from '../../payload.ts'
import { arrivalsOf, isBatch } from '../../stream.ts'
import { SSE_KEEP_ALIVE } from '../shared/keep-alive.ts'
import { openaiErrorObject } from './errors.ts'
import { plainText } from './plain-text.ts'
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
  /** The start of every chunk event up to its choices: the same for the whole stream once the id is known. */
  #head: string | undefined
  #usage: unknown
  /** The last event that carried usage, when it was read without a parse: parsed only if the usage chunk is wanted. */
  #usageEvent: string | undefined
  readonly #choices = new Map<number, ChoiceState>()

  constructor(options: ChatOptions) {
    this.#options = options
  }

  /** Events for one Gemini chunk ('' when it carries nothing a client would see). */
  chunk(data: Json): string {
    this.#id ??= completionId(data.responseId)
    if (data.usageMetadata) {
      this.#usage = data.usageMetadata
      this.#usageEvent = undefined
    }
    const plain = this.#continues() ? plainTextOf(data) : undefined
    if (plain !== undefined) return plain === '' ? '' : this.#textEvent(JSON.stringify(plain))
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

  /**
   * Events for one Gemini event given as its text, without parsing it when it is a further piece of plain text of the
   * first candidate (see plain-text.ts); undefined when it needs `chunk`.
   */
  text(event: string): string | undefined {
    const plain = this.#continues() ? plainText(event) : undefined
    if (!plain) return undefined
    if (plain.usage) this.#usageEvent = event
    return plain.literal === '""' ? '' : this.#textEvent(plain.literal)
  }

  /** Whether the first choice has begun and not finished: a piece of plain text is then just its next content delta. */
  #continues(): boolean {
    const state = this.#choices.get(0)
    return state !== undefined && state.started && !state.finished
  }

  /** The content delta of the first choice, from its text as a JSON string literal: what `chunk` would make, by hand. */
  #textEvent(literal: string): string {
    return this.#eventOf(`[{"index":0,"delta":{"content":${literal}},"logprobs":null,"finish_reason":null}]`)
  }

  /** The end of a complete upstream stream: close what Gemini left open, then usage and [DONE]. */
  end(): string {
    this.#id ??= completionId(undefined)
    const open = [...this.#choices].filter(([, state]) => !state.finished)
    let out = ''
    if (open.length > 0 || this.#choices.size === 0) {
      const indexes = this.#choices.size === 0 ? [0] : open.map(([index]) => index)
      out += this.#event(
        indexes.map((index) => {
          const state = this.#state(index)
          state.finished = true
          const delta = state.started ? {} : { role: 'assistant', content: '' }
          return { index, delta, logprobs: null, finish_reason: state.tools > 0 ? 'tool_calls' : 'stop' }
        }),
      )
    }
    if (this.#options.includeUsage) {
      const usage = this.#usageEvent === undefined ? this.#usage : Payload.fromText<Json>(this.#usageEvent).tryData()?.usageMetadata
      out += event({
        id: this.#id,
        object: 'chat.completion.chunk',
        created: this.#created,
        model: this.#options.model,
        choices: [],
        usage: chatUsage(usage) ?? EMPTY_USAGE,
      })
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

  /** A chat.completion.chunk event: only its choices are serialised per event, the envelope is text made once. */
  #event(choices: Json[]): string {
    return this.#eventOf(JSON.stringify(choices))
  }

  #eventOf(choices: string): string {
    this.#head ??= `data: {"id":${JSON.stringify(this.#id)},"object":"chat.completion.chunk","created":${this.#created},"model":${JSON.stringify(this.#options.model)},"choices":`
    return `${this.#head}${choices}${this.#options.includeUsage ? ',"usage":null}' : '}'}\n\n`
  }
}

/**
 * The text of a parsed Gemini chunk that is one candidate's next piece of plain text (one text part: no thought, no
 * signature, no tool call, no finish, no logprobs), undefined for any other chunk.
 */
function plainTextOf(data: Json): string | undefined {
  const candidates: unknown = data.candidates
  if (!Array.isArray(candidates) || candidates.length !== 1) return undefined
  const candidate: unknown = candidates[0]
  if (!isObject(candidate) || candidate.finishReason || candidate.logprobsResult !== undefined || (candidate.index !== undefined && candidate.index !== 0))
    return undefined
  const parts: unknown = candidate.content?.parts
  if (!Array.isArray(parts) || parts.length !== 1) return undefined
  const part: unknown = parts[0]
  if (!isObject(part) || typeof part.text !== 'string' || part.functionCall !== undefined || part.thought === true) return undefined
  if (typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '') return undefined
  return part.text
}

/**
 * The SSE text of a whole stream: the Gemini events of each network read converted together and written at once; a
 * failure becomes the error event, after what was converted before it. A keep-alive is an SSE comment and leaves the
 * encoder alone (no role delta, no id taken from it).
 */
export async function* encodeStream(chunks: AsyncIterable<Payload>, options: ChatOptions): AsyncGenerator<string> {
  const encoder = new ChatStreamEncoder(options)
  let out = ''
  try {
    for await (const arrival of arrivalsOf(chunks)) {
      if (arrival.keepAlive) {
        yield SSE_KEEP_ALIVE
        continue
      }
      // Events straight off the wire may skip the parse; a stage's own Payloads are often data already.
      for (const event of !isBatch(arrival) ? [arrival] : arrival.sse ? arrival.texts : arrival.payloads) {
        const plain = typeof event === 'string' ? encoder.text(event) : undefined
        if (plain !== undefined) {
          out += plain
          continue
        }
        const data = (typeof event === 'string' ? Payload.fromText(event) : event).tryData()
        if (!isObject(data)) throw new GatewayError(502, 'Gemini sent a stream event that is not JSON; the answer is incomplete.')
        out += encoder.chunk(data)
      }
      if (out) yield out
      out = ''
    }
  } catch (error) {
    yield out + encoder.error(toGatewayError(error))
    return
  }
  yield encoder.end()
}
