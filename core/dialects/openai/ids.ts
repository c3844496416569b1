import { randomBytes } from 'node:crypto'

/**
 * Tool call ids carry Gemini's thought signature across turns. Gemini 3 refuses a follow-up whose function calls
 * lost their `thoughtSignature`, and most OpenAI clients rebuild assistant messages from what they understand: they
 * keep `id` and `tool_call_id` but drop unknown fields. So the signature rides in the id
 * (`<id>__thought__<signature>`) as well as in `extra_content.google.thought_signature`, the field Google's own
 * OpenAI layer uses (clients written for that layer echo it). Either one is enough to restore it.
 *
 * The id part is Gemini's `functionCall.id` when Gemini gave one (Gemini 3), so it is stable and goes back upstream
 * as `functionCall.id` / `functionResponse.id`; otherwise a fresh `call_<hex>` that stays on our side.
 */
const THOUGHT = '__thought__'
const OWN_PREFIX = 'call_'

export function newCallId(): string {
  return OWN_PREFIX + randomBytes(12).toString('hex')
}

export function encodeToolCallId(geminiId: unknown, signature: unknown): string {
  const base = typeof geminiId === 'string' && geminiId !== '' ? geminiId : newCallId()
  return typeof signature === 'string' && signature !== '' ? base + THOUGHT + signature : base
}

export interface DecodedToolCallId {
  /** The id without the signature. */
  base: string
  signature?: string
  /** The id to send to Gemini (`functionCall.id` / `functionResponse.id`): only ids Gemini itself issued. */
  upstreamId?: string
}

export function decodeToolCallId(id: string): DecodedToolCallId {
  const at = id.indexOf(THOUGHT)
  const base = at < 0 ? id : id.slice(0, at)
  const signature = at < 0 ? undefined : id.slice(at + THOUGHT.length)
  const decoded: DecodedToolCallId = { base }
  if (signature) decoded.signature = signature
  if (base !== '' && !base.startsWith(OWN_PREFIX)) decoded.upstreamId = base
  return decoded
}
