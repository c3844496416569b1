import { randomBytes } from 'node:crypto'
import type { Json } from '../../internal/json.ts'
import { tokenCounts } from '../shared/usage.ts'
import { BlockBuilder, foldBlocks, type BlockEvent } from './blocks.ts'

/** What the encoders need from the request: the client's model name and whether it asked for thinking. */
export interface AnswerOptions {
  model: string
  thinking: boolean
}

/**
 * A Gemini generateContent answer → an Anthropic Message. Only the first candidate is used (Anthropic has no `n`).
 */
export function encodeAnswer(answer: Json, options: AnswerOptions): Json {
  const builder = new BlockBuilder({ thinking: options.thinking, wholeToolInput: true })
  const events: BlockEvent[] = []
  const candidate = firstCandidate(answer)
  const parts = candidate?.content?.parts
  if (Array.isArray(parts)) for (const part of parts) builder.part(part, events)
  builder.close(events)
  const stop = stopReason(candidate?.finishReason, answer.promptFeedback?.blockReason, builder.toolUses > 0)
  return {
    id: messageId(answer.responseId),
    type: 'message',
    role: 'assistant',
    model: options.model,
    content: foldBlocks(events),
    stop_reason: stop.stop_reason,
    stop_sequence: null,
    stop_details: stop.stop_details,
    usage: anthropicUsage(answer.usageMetadata),
  }
}

export function firstCandidate(answer: Json): Json | undefined {
  const candidate = Array.isArray(answer.candidates) ? answer.candidates[0] : undefined
  return typeof candidate === 'object' && candidate !== null ? candidate : undefined
}

/** `msg_` + Gemini's responseId, so a message can be found in Google's and the gateway's logs. */
export function messageId(responseId: unknown): string {
  return typeof responseId === 'string' && /^[A-Za-z0-9_-]+$/.test(responseId) ? `msg_${responseId}` : `msg_${randomBytes(12).toString('base64url')}`
}

const REFUSALS = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION'])

export interface StopInfo {
  stop_reason: string
  stop_details: Json | null
}

/**
 * MAX_TOKENS → max_tokens; content-policy stops and blocked prompts → refusal; a turn that called tools → tool_use;
 * anything else → end_turn. Gemini reports a matched stop sequence as a plain STOP without saying which one, so
 * `stop_sequence` is never claimed.
 */
export function stopReason(finishReason: unknown, blockReason: unknown, calledTools: boolean): StopInfo {
  if (typeof blockReason === 'string' && blockReason) return refusal(`Gemini blocked the prompt (${blockReason}).`)
  if (finishReason === 'MAX_TOKENS') return { stop_reason: 'max_tokens', stop_details: null }
  if (typeof finishReason === 'string' && REFUSALS.has(finishReason)) return refusal(`Gemini stopped the answer (${finishReason}).`)
  return { stop_reason: calledTools ? 'tool_use' : 'end_turn', stop_details: null }
}

const refusal = (explanation: string): StopInfo => ({ stop_reason: 'refusal', stop_details: { type: 'refusal', category: null, explanation } })

/**
 * Anthropic counts cache reads apart from input_tokens (input + cache reads = the whole prompt); Gemini's
 * promptTokenCount includes its cached tokens. output_tokens includes thinking, as Anthropic bills it.
 */
export function anthropicUsage(usageMetadata: unknown): Json {
  const usage = tokenCounts(usageMetadata)
  const cached = usage?.cached ?? 0
  return {
    input_tokens: Math.max(0, (usage?.prompt ?? 0) - cached),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: (usage?.completion ?? 0) + (usage?.thoughts ?? 0),
    output_tokens_details: { thinking_tokens: usage?.thoughts ?? 0 },
  }
}
