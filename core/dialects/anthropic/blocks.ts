import { isObject, type Json } from '../../internal/json.ts'
import { codeExecutionMarkdown } from '../shared/code-execution.ts'
import { toolUseId } from './tool-ids.ts'

/**
 * Gemini parts → Anthropic content-block events (content_block_start / _delta / _stop with their indexes). The
 * stream encoder sends these events as they come; the unary encoder folds the same events into blocks, so both
 * answers always agree.
 *
 *   thought part          → thinking block (consecutive thoughts merge; a thoughtSignature ends the block as its
 *                           signature_delta)
 *   text part             → text block (consecutive texts merge)
 *   functionCall part     → tool_use block, whole (Gemini never splits arguments); its thoughtSignature rides in
 *                           the tool_use id (see tool-ids.ts)
 *   thoughtSignature on a text part (Gemini 3 puts one on the last text, in streams on a final empty text part)
 *                         → a thinking block with empty text and that signature, right after the text, when the
 *                           client asked for thinking (a client that did not gets no thinking blocks; Gemini does
 *                           not require that signature back)
 *   executableCode / codeExecutionResult → fenced markdown in a text block (see shared/code-execution.ts)
 */

export type BlockEvent =
  | { type: 'content_block_start'; index: number; content_block: Json }
  | { type: 'content_block_delta'; index: number; delta: Json }
  | { type: 'content_block_stop'; index: number }

export interface BlockOptions {
  /** Hand out signatures of text parts as signature-only thinking blocks. */
  thinking: boolean
  /** Put tool input in the start block instead of an input_json_delta (the unary answer). */
  wholeToolInput?: boolean
}

export class BlockBuilder {
  #open: 'text' | 'thinking' | undefined
  #count = 0
  toolUses = 0

  constructor(private readonly options: BlockOptions) {}

  /** Appends the events for one Gemini part to `out`. */
  part(part: unknown, out: BlockEvent[]): void {
    if (typeof part !== 'object' || part === null) return
    const p = part as Json
    const signature = typeof p.thoughtSignature === 'string' && p.thoughtSignature ? p.thoughtSignature : undefined
    if (isObject(p.functionCall)) return this.#toolUse(p.functionCall, signature, out)
    if (typeof p.text === 'string') {
      if (p.thought === true) {
        this.#ensure('thinking', out)
        if (p.text) out.push(delta(this.#count - 1, { type: 'thinking_delta', thinking: p.text }))
        if (signature) this.#sign(signature, out)
        return
      }
      if (p.text) this.#text(p.text, out)
      if (signature && this.options.thinking) {
        this.#ensure('thinking', out, true)
        this.#sign(signature, out)
      }
      return
    }
    const markdown = codeExecutionMarkdown(p)
    if (markdown !== undefined) this.#text(markdown, out)
    // inlineData (generated images, audio) and unknown part kinds have no Anthropic content block.
  }

  /** Closes the open block, if any. */
  close(out: BlockEvent[]): void {
    if (this.#open === undefined) return
    out.push({ type: 'content_block_stop', index: this.#count - 1 })
    this.#open = undefined
  }

  #ensure(kind: 'text' | 'thinking', out: BlockEvent[], fresh = false): void {
    if (this.#open === kind && !fresh) return
    this.close(out)
    const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' }
    out.push({ type: 'content_block_start', index: this.#count++, content_block: block })
    this.#open = kind
  }

  #text(text: string, out: BlockEvent[]): void {
    this.#ensure('text', out)
    out.push(delta(this.#count - 1, { type: 'text_delta', text }))
  }

  /** A signature is the last thing a thinking block gets. */
  #sign(signature: string, out: BlockEvent[]): void {
    out.push(delta(this.#count - 1, { type: 'signature_delta', signature }))
    this.close(out)
  }

  #toolUse(call: Json, signature: string | undefined, out: BlockEvent[]): void {
    this.close(out)
    const index = this.#count++
    const args = isObject(call.args) ? call.args : {}
    const id = toolUseId(call.id, signature)
    const name = typeof call.name === 'string' ? call.name : ''
    if (this.options.wholeToolInput) {
      out.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name, input: args } })
    } else {
      out.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name, input: {} } })
      out.push(delta(index, { type: 'input_json_delta', partial_json: JSON.stringify(args) }))
    }
    out.push({ type: 'content_block_stop', index })
    this.toolUses++
  }
}

const delta = (index: number, d: Json): BlockEvent => ({ type: 'content_block_delta', index, delta: d })

/** Folds block events into the content array of a unary answer. */
export function foldBlocks(events: readonly BlockEvent[]): Json[] {
  const blocks: Json[] = []
  for (const event of events) {
    if (event.type === 'content_block_start') blocks[event.index] = { ...event.content_block }
    else if (event.type === 'content_block_delta') {
      const block = blocks[event.index]!
      const d = event.delta
      if (d.type === 'text_delta') block.text += d.text
      else if (d.type === 'thinking_delta') block.thinking += d.thinking
      else if (d.type === 'signature_delta') block.signature = d.signature
      else if (d.type === 'input_json_delta') block.input = JSON.parse(d.partial_json)
    }
  }
  return blocks
}
