/**
 * Gemini thought signatures travel through a stateless Responses client inside reasoning items.
 *
 * Gemini puts an opaque `thoughtSignature` on a part of its answer (the first function call of a turn, a text part,
 * sometimes an empty text part) and requires it back on that same part in the next request, or Gemini 3 refuses the
 * function-call turn. The Responses API has exactly one field meant for opaque model state that clients echo back:
 * `reasoning.encrypted_content`. So every signature leaves as a reasoning item placed right next to the item it
 * belongs to, and says which neighbour that is:
 *
 * - `next`: the function_call / message item that follows it in the output (the usual case);
 * - `prev`: the message item just before it (a signature that arrived after that message's text had streamed);
 * - `own`:  a part of its own (an empty text part, or a thought), restored as `{text:"", thoughtSignature}`.
 *
 * The marker prefix keeps real OpenAI `encrypted_content` (a conversation moved over from OpenAI) from reaching
 * Gemini as a bogus signature: anything without the prefix is ignored.
 */
const PREFIX = 'gemgate.sig.v1.'

export type SignatureTarget = 'next' | 'prev' | 'own'

export interface CarriedSignature {
  target: SignatureTarget
  signature: string
}

export function encodeSignature(target: SignatureTarget, signature: string): string {
  return `${PREFIX}${target}.${signature}`
}

export function decodeSignature(encrypted: unknown): CarriedSignature | undefined {
  if (typeof encrypted !== 'string' || !encrypted.startsWith(PREFIX)) return undefined
  const rest = encrypted.slice(PREFIX.length)
  const dot = rest.indexOf('.')
  const target = rest.slice(0, dot)
  const signature = rest.slice(dot + 1)
  if (dot < 0 || !signature || (target !== 'next' && target !== 'prev' && target !== 'own')) return undefined
  return { target, signature }
}
