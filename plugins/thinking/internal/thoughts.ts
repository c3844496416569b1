import type { GeminiResponse } from 'gemgate'

/**
 * Removes thought summaries (`thought: true` parts) from an answer or a stream chunk, in place. A thought part that
 * carries a thought signature leaves the signature behind on an empty text part, the form Gemini 3 itself uses, so
 * a client's next turn can still hand it back. A candidate left without parts loses `parts`, as Google writes it.
 */
export function removeThoughts(response: GeminiResponse): void {
  if (!Array.isArray(response.candidates)) return
  for (const candidate of response.candidates) {
    const content = candidate?.content
    const parts: unknown = content?.parts
    if (!content || !Array.isArray(parts) || !parts.some(isThought)) continue
    const kept = parts.flatMap((part) => (!isThought(part) ? [part] : signed(part) ? [{ text: '', thoughtSignature: part.thoughtSignature }] : []))
    if (kept.length > 0) content.parts = kept
    else delete content.parts
  }
}

const isThought = (part: unknown): part is { thought: true; thoughtSignature?: unknown } => (part as { thought?: unknown } | null)?.thought === true

const signed = (part: { thoughtSignature?: unknown }): boolean => typeof part.thoughtSignature === 'string' && part.thoughtSignature !== ''
