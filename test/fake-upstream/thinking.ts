// Thinking answers (wire samples §1.2, §2.2): a request that asks for thought summaries
// (generationConfig.thinkingConfig.includeThoughts) gets a `thought: true` part before the answer and a
// usageMetadata.thoughtsTokenCount. Google sends no summaries unless asked, nor with thinking off (budget 0).

import type { EchoAnswer, Json } from './responses.ts'
import { countWords, isObject, lastUserText } from './responses.ts'

/** The thought summary a request asks for, or undefined when it asks for none. Both casings, as Google parses them. */
function thoughtFor(request: Json): string | undefined {
  const config = request.generationConfig ?? request.generation_config
  const thinking = isObject(config) ? (config.thinkingConfig ?? config.thinking_config) : undefined
  if (!isObject(thinking)) return undefined
  const include = thinking.includeThoughts ?? thinking.include_thoughts
  const budget = thinking.thinkingBudget ?? thinking.thinking_budget
  if (include !== true || budget === 0) return undefined
  return `**Thinking it over**\n\nThe user wrote: ${lastUserText(request)}\n`
}

function countThoughts(usage: unknown, thought: string): void {
  if (!isObject(usage)) return
  const tokens = countWords(thought)
  usage.totalTokenCount = Number(usage.totalTokenCount ?? 0) + tokens
  usage.thoughtsTokenCount = tokens
}

/** A unary answer with the thought part first, when the request asked for thoughts. */
export function withThoughts(request: Json, body: Json): Json {
  const thought = thoughtFor(request)
  const candidate = Array.isArray(body.candidates) ? body.candidates[0] : undefined
  if (thought === undefined || !isObject(candidate) || !isObject(candidate.content)) return body
  const parts = Array.isArray(candidate.content.parts) ? candidate.content.parts : []
  candidate.content.parts = [{ text: thought, thought: true }, ...parts]
  countThoughts(body.usageMetadata, thought)
  return body
}

/** A stream with one thought chunk before the answer's chunks, when the request asked for thoughts. */
export function withThoughtChunk(
  request: Json,
  answer: EchoAnswer,
  count: number,
  item: (i: number) => unknown,
): { count: number; item: (i: number) => unknown } {
  const thought = thoughtFor(request)
  if (thought === undefined) return { count, item }
  const first = answer.chunk(thought, 0, false)
  ;((first.candidates as Json[])[0]!.content as { parts: Json[] }).parts[0]!.thought = true
  countThoughts(first.usageMetadata, thought)
  return { count: count + 1, item: (i) => (i === 0 ? first : item(i - 1)) }
}
