import { isNonEmptyString, isObject } from '../../internal/json.ts'

/**
 * True when a 2xx generateContent answer (or a stream's first event; `undefined` = no event) carries nothing:
 * no candidate with a content part, no `promptFeedback.blockReason`, and every finishReason absent or STOP.
 * Content = a non-empty `text` (thought parts included) or any non-text payload (functionCall, inlineData,
 * executableCode, codeExecutionResult, fileData, ... and unknown future part kinds). An empty `text` with only
 * a `thoughtSignature` is not content. MAX_TOKENS with no parts, SAFETY, RECITATION and blocked prompts are
 * real answers (the client must see them), so they are not empty.
 */
export function isEmptyAnswer(body: unknown): boolean {
  // Why: a non-SSE stream is a JSON array of responses; it is empty only if every element is.
  if (Array.isArray(body)) return body.every(isEmptyAnswer)
  if (!isObject(body)) return true

  const feedback = body.promptFeedback
  if (isObject(feedback) && isNonEmptyString(feedback.blockReason)) return false

  const candidates = Array.isArray(body.candidates) ? body.candidates : []
  for (const candidate of candidates) {
    if (!isObject(candidate)) continue
    const finish = candidate.finishReason
    // Why: a non-STOP finish (MAX_TOKENS, SAFETY, RECITATION, ...) is Gemini's real, final word — pass it on.
    if (isNonEmptyString(finish) && finish !== 'STOP' && finish !== 'FINISH_REASON_UNSPECIFIED') return false
    const content = candidate.content
    const parts = isObject(content) && Array.isArray(content.parts) ? content.parts : []
    if (parts.some(isContentPart)) return false
  }
  return true
}

/** Part keys that are not an answer on their own. */
const NON_CONTENT_PART_KEYS = new Set(['text', 'thought', 'thoughtSignature', 'partMetadata'])

function isContentPart(part: unknown): boolean {
  if (!isObject(part)) return false
  if (isNonEmptyString(part.text)) return true
  for (const key in part) {
    if (!NON_CONTENT_PART_KEYS.has(key) && part[key] != null) return true
  }
  return false
}

export function hasCandidates(body: unknown): boolean {
  return isObject(body) && Array.isArray(body.candidates) && body.candidates.length > 0
}

export function describeAnswer(body: unknown): string {
  const first = Array.isArray(body) ? body[0] : body
  if (!isObject(first)) return 'ok'
  const feedback = first.promptFeedback
  if (isObject(feedback) && isNonEmptyString(feedback.blockReason)) return `ok (prompt blocked: ${feedback.blockReason})`
  const candidate = Array.isArray(first.candidates) ? first.candidates[0] : undefined
  if (isObject(candidate) && isNonEmptyString(candidate.finishReason) && candidate.finishReason !== 'STOP') {
    return `ok (finishReason ${candidate.finishReason})`
  }
  return 'ok'
}
