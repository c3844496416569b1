import { randomBytes } from 'node:crypto'
import type { Json } from '../../internal/json.ts'
import { codeExecutionMarkdown } from '../shared/code-execution.ts'
import { encodeSignature, type SignatureTarget } from './signature.ts'

/** Receives each stream event as it happens (type + payload without sequence_number). Absent for non-stream answers. */
export type EventSink = (type: string, payload: Json) => void
export type IdMaker = (prefix: string) => string

export const randomId: IdMaker = (prefix) => `${prefix}_${randomBytes(16).toString('hex')}`

export interface Finish {
  status: 'completed' | 'incomplete' | 'failed'
  incompleteReason?: 'max_output_tokens' | 'content_filter'
  /** For `failed`: why. */
  message?: string
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION'])

/** Gemini finishReason (or a prompt block) → the Response status. Reasons with no Responses meaning are failures. */
export function finishOf(finishReason: string | undefined, blockReason?: string, finishMessage?: string): Finish {
  if (blockReason) return { status: 'incomplete', incompleteReason: 'content_filter' }
  if (!finishReason || finishReason === 'STOP' || finishReason === 'FINISH_REASON_UNSPECIFIED') return { status: 'completed' }
  if (finishReason === 'MAX_TOKENS') return { status: 'incomplete', incompleteReason: 'max_output_tokens' }
  if (FILTERED.has(finishReason)) return { status: 'incomplete', incompleteReason: 'content_filter' }
  return { status: 'failed', message: `Gemini ended the answer with finishReason ${finishReason}${finishMessage ? `: ${finishMessage}` : ''}.` }
}

interface OpenReasoning {
  item: Json
  index: number
  text: string
  summaryOpen: boolean
  signature?: { target: SignatureTarget; value: string }
}

interface OpenMessage {
  item: Json
  index: number
  text: string
  trailing: string[]
}

/**
 * Turns Gemini parts, in the order they arrive, into Responses output items: thought parts → a reasoning item with a
 * summary, text → a message, each functionCall → a function_call item; thought signatures → reasoning items'
 * encrypted_content (see signature.ts). A streamed answer feeds it chunk by chunk and forwards the events it emits;
 * a whole answer is the same thing fed once, so both shapes carry identical items.
 */
export class OutputBuilder {
  readonly output: Json[] = []
  finishReason: string | undefined
  finishMessage: string | undefined
  blockReason: string | undefined
  usageMetadata: Json | undefined
  responseId: string | undefined
  #reasoning: OpenReasoning | undefined
  #message: OpenMessage | undefined

  constructor(
    private readonly emit: EventSink = () => {},
    private readonly newId: IdMaker = randomId,
  ) {}

  /** One GenerateContentResponse (a whole answer or one stream chunk). */
  add(response: Json): void {
    if (typeof response.responseId === 'string') this.responseId ??= response.responseId
    if (response.usageMetadata && typeof response.usageMetadata === 'object') this.usageMetadata = response.usageMetadata
    const block = response.promptFeedback?.blockReason
    if (typeof block === 'string') this.blockReason = block
    const candidate = Array.isArray(response.candidates) ? response.candidates[0] : undefined
    if (!candidate || typeof candidate !== 'object') return
    const parts = candidate.content?.parts
    if (Array.isArray(parts)) for (const part of parts) if (part && typeof part === 'object') this.part(part)
    if (typeof candidate.finishReason === 'string') this.finishReason = candidate.finishReason
    if (typeof candidate.finishMessage === 'string') this.finishMessage = candidate.finishMessage
  }

  /** Closes whatever is open; `status` marks open items when the answer stopped short. */
  close(status: 'completed' | 'incomplete' = 'completed'): void {
    this.#closeReasoning()
    this.#closeMessage(status)
  }

  /** The items as they stand, open ones marked incomplete (for a failed stream's last word). */
  snapshot(): Json[] {
    const message = this.#message
    const reasoning = this.#reasoning
    return this.output.map((item) => {
      if (item === message?.item)
        return { ...item, status: 'incomplete', content: [{ type: 'output_text', annotations: [], logprobs: [], text: message.text }] }
      if (item === reasoning?.item && reasoning.summaryOpen) return { ...item, summary: [{ type: 'summary_text', text: reasoning.text }] }
      return item
    })
  }

  private part(part: Json): void {
    const signature = typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '' ? part.thoughtSignature : undefined
    if (part.thought === true) return this.#thought(typeof part.text === 'string' ? part.text : '', signature)
    if (part.functionCall && typeof part.functionCall === 'object') return this.#functionCall(part.functionCall, signature)
    if (typeof part.text === 'string') return this.#text(part.text, signature)
    const rendered = renderOther(part)
    if (rendered !== undefined) this.#text(rendered, signature)
    else if (signature) this.#carry('own', signature)
  }

  #thought(text: string, signature: string | undefined): void {
    if (text !== '') {
      const reasoning = this.#openReasoning()
      if (!reasoning.summaryOpen) {
        reasoning.summaryOpen = true
        this.emit('response.reasoning_summary_part.added', {
          item_id: reasoning.item.id,
          output_index: reasoning.index,
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        })
      }
      reasoning.text += text
      this.emit('response.reasoning_summary_text.delta', { item_id: reasoning.item.id, output_index: reasoning.index, summary_index: 0, delta: text })
    }
    if (!signature) return
    if (this.#reasoning && !this.#reasoning.signature) this.#reasoning.signature = { target: 'own', value: signature }
    else this.#carry('own', signature)
  }

  #functionCall(call: Json, signature: string | undefined): void {
    this.#closeMessage('completed')
    if (signature) this.#signNext(signature)
    else this.#closeReasoning()
    const args = JSON.stringify(call.args ?? {})
    const item: Json = {
      id: this.newId('fc'),
      type: 'function_call',
      status: 'in_progress',
      arguments: '',
      call_id: typeof call.id === 'string' && call.id !== '' ? call.id : this.newId('call'),
      name: String(call.name ?? ''),
    }
    const index = this.#push(item)
    this.emit('response.function_call_arguments.delta', { item_id: item.id, output_index: index, delta: args })
    this.emit('response.function_call_arguments.done', { item_id: item.id, output_index: index, name: item.name, arguments: args })
    item.arguments = args
    item.status = 'completed'
    this.emit('response.output_item.done', { output_index: index, item })
  }

  #text(text: string, signature: string | undefined): void {
    if (text === '') {
      if (!signature) return
      if (this.#message) this.#message.trailing.push(signature)
      else this.#carry('own', signature)
      return
    }
    let message = this.#message
    if (!message) {
      if (signature) this.#signNext(signature)
      message = this.#openMessage()
    } else if (signature) {
      message.trailing.push(signature)
    }
    message.text += text
    this.emit('response.output_text.delta', { item_id: message.item.id, output_index: message.index, content_index: 0, delta: text, logprobs: [] })
  }

  #push(item: Json): number {
    const index = this.output.push(item) - 1
    this.emit('response.output_item.added', { output_index: index, item })
    return index
  }

  #openReasoning(): OpenReasoning {
    if (this.#reasoning) return this.#reasoning
    this.#closeMessage('completed')
    const item: Json = { id: this.newId('rs'), type: 'reasoning', summary: [] }
    this.#reasoning = { item, index: this.#push(item), text: '', summaryOpen: false }
    return this.#reasoning
  }

  /** A signature for the item about to open: on the open reasoning item if it has none yet, else on a new one. */
  #signNext(signature: string): void {
    if (this.#reasoning && !this.#reasoning.signature) {
      this.#reasoning.signature = { target: 'next', value: signature }
      this.#closeReasoning()
    } else {
      this.#closeReasoning()
      this.#carry('next', signature)
    }
  }

  #closeReasoning(): void {
    const reasoning = this.#reasoning
    if (!reasoning) return
    this.#reasoning = undefined
    const { item, index, text } = reasoning
    if (reasoning.summaryOpen) {
      const part = { type: 'summary_text', text }
      this.emit('response.reasoning_summary_text.done', { item_id: item.id, output_index: index, summary_index: 0, text })
      this.emit('response.reasoning_summary_part.done', { item_id: item.id, output_index: index, summary_index: 0, part })
      item.summary = [part]
    }
    if (reasoning.signature) item.encrypted_content = encodeSignature(reasoning.signature.target, reasoning.signature.value)
    this.emit('response.output_item.done', { output_index: index, item })
  }

  /** A reasoning item whose only job is to carry a signature. */
  #carry(target: SignatureTarget, signature: string): void {
    this.#closeMessage('completed')
    this.#closeReasoning()
    const item: Json = { id: this.newId('rs'), type: 'reasoning', summary: [], encrypted_content: encodeSignature(target, signature) }
    const index = this.#push(item)
    this.emit('response.output_item.done', { output_index: index, item })
  }

  #openMessage(): OpenMessage {
    this.#closeReasoning()
    const item: Json = { id: this.newId('msg'), type: 'message', status: 'in_progress', content: [], role: 'assistant' }
    const index = this.#push(item)
    this.emit('response.content_part.added', {
      item_id: item.id,
      output_index: index,
      content_index: 0,
      part: { type: 'output_text', annotations: [], logprobs: [], text: '' },
    })
    this.#message = { item, index, text: '', trailing: [] }
    return this.#message
  }

  #closeMessage(status: 'completed' | 'incomplete'): void {
    const message = this.#message
    if (!message) return
    this.#message = undefined
    const { item, index, text } = message
    const part = { type: 'output_text', annotations: [], logprobs: [], text }
    this.emit('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text, logprobs: [] })
    this.emit('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part })
    item.content = [part]
    item.status = status
    this.emit('response.output_item.done', { output_index: index, item })
    for (const signature of message.trailing) this.#carry('prev', signature)
  }
}

/** Parts with no Responses item of their own become text: images as markdown data URLs, code as fenced blocks. */
function renderOther(part: Json): string | undefined {
  const inline = part.inlineData
  if (inline && typeof inline.data === 'string') {
    const mime = String(inline.mimeType ?? 'application/octet-stream')
    const url = `data:${mime};base64,${inline.data}`
    return mime.startsWith('image/') ? `\n\n![image](${url})\n\n` : `\n\n[${mime}](${url})\n\n`
  }
  if (part.fileData && typeof part.fileData.fileUri === 'string') return `\n\n[${part.fileData.mimeType ?? 'file'}](${part.fileData.fileUri})\n\n`
  return codeExecutionMarkdown(part)
}
